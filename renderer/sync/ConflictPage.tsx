/** Placeholder: built by the feature's own work. */
export function ConflictPage() {
  return (
    <section>
      <h1>ConflictPage</h1>
    </section>
  );
}
