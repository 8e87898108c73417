/** Placeholder: built by the feature's own work. */
export function ResourceViewPage() {
  return (
    <section>
      <h1>ResourceViewPage</h1>
    </section>
  );
}
