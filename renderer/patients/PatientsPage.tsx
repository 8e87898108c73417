/** Placeholder: built by the feature's own work. */
export function PatientsPage() {
  return (
    <section>
      <h1>PatientsPage</h1>
    </section>
  );
}
