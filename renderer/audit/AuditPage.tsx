/** Placeholder: built by the feature's own work. */
export function AuditPage() {
  return (
    <section>
      <h1>AuditPage</h1>
    </section>
  );
}
