/** Placeholder: built by the feature's own work. */
export function SyncPage() {
  return (
    <section>
      <h1>SyncPage</h1>
    </section>
  );
}
