import { t, type MessageKey } from "../i18n";

export type View = "devices" | "fleet" | "plans" | "jobs" | "firmware" | "campaigns" | "audit" | "settings";

const VIEWS: ReadonlyArray<{ view: View; label: MessageKey; icon: string }> = [
  { view: "devices", label: "nav.devices", icon: "▦" },
  { view: "fleet", label: "nav.fleet", icon: "▥" },
  { view: "plans", label: "nav.plans", icon: "☷" },
  { view: "jobs", label: "nav.jobs", icon: "⇅" },
  { view: "firmware", label: "nav.firmware", icon: "⬒" },
  { view: "campaigns", label: "nav.campaigns", icon: "⚑" },
  { view: "audit", label: "nav.audit", icon: "☰" },
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
