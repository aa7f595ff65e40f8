import { t } from "../i18n";

export type View = "devices" | "plans" | "jobs" | "settings";

const VIEWS: ReadonlyArray<{ view: View; label: "nav.devices" | "nav.plans" | "nav.jobs" | "nav.settings"; icon: string }> = [
  { view: "devices", label: "nav.devices", icon: "▦" },
  { view: "plans", label: "nav.plans", icon: "☷" },
  { view: "jobs", label: "nav.jobs", icon: "⇅" },
  { view: "settings", label: "nav.settings", icon: "⚙" },
];

interface Props {
  current: View;
  onChange: (view: View) => void;
}

export function Nav({ current, onChange }: Props) {
  return (
    <nav className="app-nav" aria-label={t("nav.label")}>
      {VIEWS.map(({ view, label, icon }) => (
        <button
          key={view}
          type="button"
          className={view === current ? "nav-button active" : "nav-button"}
          aria-current={view === current ? "page" : undefined}
          onClick={() => onChange(view)}
        >
          <span className="nav-icon" aria-hidden="true">
            {icon}
          </span>
          <span>{t(label)}</span>
        </button>
      ))}
    </nav>
  );
}
