/** Placeholder: built by the feature's own work. */
export function AdminPage() {
  return (
    <section>
      <h1>AdminPage</h1>
    </section>
  );
}
