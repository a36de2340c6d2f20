/** A headed list of strings (requirements, criteria, issues); nothing when it is empty. */
export function TextList({ heading, items }: { heading: string; items: string[] | undefined }) {
  if (!items || items.length === 0) return null;
  return (
    <>
      <h4>{heading}</h4>
      <ul aria-label={heading}>
        {items.map((item, i) => (
          <li key={i}>{item}</li>
        ))}
      </ul>
    </>
  );
}
