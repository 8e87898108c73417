/** Placeholder: built by the feature's own work. */
export function PatientRecordPage() {
  return (
    <section>
      <h1>PatientRecordPage</h1>
    </section>
  );
}
