import { Component, type ErrorInfo, type ReactNode } from "react";

import { t } from "../i18n";

interface State {
  error: Error | null;
}

/**
 * Keeps a view's crash inside the view: the header and navigation stay, the view says what failed and
 * offers to try again, instead of the whole window going blank.
 */
export class ViewErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo) {
    console.error("a view failed", error, info.componentStack);
  }

  override render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <div className="error-message error-internal" role="alert">
        <p className="error-text">{t("view.failed", { message: error.message })}</p>
        <button type="button" className="button" onClick={() => this.setState({ error: null })}>
          {t("view.retry")}
        </button>
      </div>
    );
  }
}
