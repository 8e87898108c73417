/** Placeholder: built by the feature's own work. */
export function ResourceEditPage() {
  return (
    <section>
      <h1>ResourceEditPage</h1>
    </section>
  );
}
