/** Placeholder: built by the feature's own work. */
export function SearchPage() {
  return (
    <section>
      <h1>SearchPage</h1>
    </section>
  );
}
