/** A small decorative spinner; the control next to it carries the accessible state (aria-busy). */
export function Spinner() {
  return <span className="spinner" aria-hidden="true" />;
}
