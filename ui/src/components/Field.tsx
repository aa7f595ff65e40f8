import type { ReactNode } from "react";

interface TextProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  type?: "text" | "number" | "time" | "datetime-local" | "search";
  placeholder?: string;
  min?: number;
  max?: number;
  step?: number;
  required?: boolean;
  className?: string;
}

/** A labelled input; the label is also its accessible name. */
export function TextField({ label, value, onChange, type = "text", className, ...rest }: TextProps) {
  return (
    <label className={className ? `field ${className}` : "field"}>
      <span>{label}</span>
      <input aria-label={label} type={type} value={value} onChange={(e) => onChange(e.target.value)} {...rest} />
    </label>
  );
}

interface SelectProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  children: ReactNode;
}

export function SelectField({ label, value, onChange, children }: SelectProps) {
  return (
    <label className="field">
      <span>{label}</span>
      <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value)}>
        {children}
      </select>
    </label>
  );
}

interface CheckProps {
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
}

export function CheckField({ label, checked, onChange }: CheckProps) {
  return (
    <label className="check-field">
      <input type="checkbox" aria-label={label} checked={checked} onChange={(e) => onChange(e.target.checked)} />
      <span>{label}</span>
    </label>
  );
}
