import { useId, type ComponentPropsWithRef, type ReactNode } from "react";

/**
 * A checkbox (or radio, with `type="radio"`) named by `label` alone, with `hint` as its
 * description, so its name stays short and stable.
 */
export function CheckWithHint({
  label,
  hint,
  ...input
}: { label: ReactNode; hint: string } & ComponentPropsWithRef<"input">) {
  const id = useId();
  const describedBy = [input["aria-describedby"], `${id}-hint`].filter(Boolean).join(" ");
  return (
    <div className="check">
      <input type="checkbox" id={id} {...input} aria-describedby={describedBy} />
      <span>
        <label htmlFor={id}>{label}</label>
        <small id={`${id}-hint`}>{hint}</small>
      </span>
    </div>
  );
}
