/** Placeholder: built by the feature's own work. */
export function HistoryPage() {
  return (
    <section>
      <h1>HistoryPage</h1>
    </section>
  );
}
