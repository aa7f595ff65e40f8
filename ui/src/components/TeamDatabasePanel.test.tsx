import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { TeamDatabaseStatus } from "../bindings/TeamDatabaseStatus";
import { expectAlertSaying } from "../test/alerts";
import { renderWithQueries } from "../test/render";
import { callsOf, mockCommands } from "../test/tauri";
import { Header } from "./Header";
import { TeamDatabasePanel } from "./TeamDatabasePanel";

const DESK: TeamDatabaseStatus = {
  mode: "desk",
  location: "/home/tech/.local/share/ota-console/ota-console.sqlite3",
  source: null,
  live: true,
  error: null,
  savedUrl: null,
  environmentUrl: null,
  restartNeeded: false,
};

const TEAM_URL = "postgres://ota@db.example.com:5432/ota";

describe("team database panel", () => {
  it("shows a desk on its own data, live, with nothing to restart", async () => {
    mockCommands({ team_database_status: () => DESK });
    renderWithQueries(<TeamDatabasePanel />);
    expect(await screen.findByText("This desk's own data")).toBeTruthy();
    expect(screen.getByText(DESK.location)).toBeTruthy();
    const state = screen.getByRole("status", { name: "Database state" });
    expect(state.textContent).toBe("Live");
    expect(state.className).toContain("freshness-live");
    expect(screen.queryByRole("button", { name: "Restart now" })).toBeNull();
    expect(screen.getByLabelText<HTMLInputElement>("Database URL").value).toBe("");
    expect(screen.getByLabelText<HTMLInputElement>("Database password").type).toBe("password");
    expect(screen.getByRole("button", { name: "Save and restart" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Use this desk's own data" })).toBeTruthy();
  });

  it("checks the URL before asking Rust", async () => {
    const user = userEvent.setup();
    mockCommands({ team_database_status: () => DESK });
    renderWithQueries(<TeamDatabasePanel />);
    await screen.findByText("This desk's own data");

    await user.click(screen.getByRole("button", { name: "Save and restart" }));
    await expectAlertSaying(["Give the team database's URL"]);
    await user.type(screen.getByLabelText("Database URL"), "mysql://db.example.com/ota");
    await user.click(screen.getByRole("button", { name: "Save and restart" }));
    await expectAlertSaying(["starts with postgres://"]);
    expect(callsOf("save_team_database")).toEqual([]);
  });

  it("shows Rust's refusal, keeps the URL and asks for the password again", async () => {
    const user = userEvent.setup();
    mockCommands({
      team_database_status: () => DESK,
      save_team_database: () => {
        throw {
          code: "auth",
          message: `The team database at ${TEAM_URL} refused the user or password: 28P01: password authentication failed`,
          hint: "Check the password, and the user name in the URL.",
        };
      },
    });
    renderWithQueries(<TeamDatabasePanel />);
    await screen.findByText("This desk's own data");
    await user.type(screen.getByLabelText("Database URL"), TEAM_URL);
    const password = screen.getByLabelText<HTMLInputElement>("Database password");
    await user.type(password, "wrong");
    await user.click(screen.getByRole("button", { name: "Save and restart" }));

    await expectAlertSaying(["refused the user or password", "Check the password"]);
    expect(callsOf("save_team_database")).toEqual([{ url: TEAM_URL, password: "wrong" }]);
    expect(callsOf("restart_app")).toEqual([]);
    expect(password.value).toBe("");
    expect(document.activeElement).toBe(password);
    expect(screen.getByLabelText<HTMLInputElement>("Database URL").value).toBe(TEAM_URL);
  });

  it("saves, then restarts when that opens other data", async () => {
    const user = userEvent.setup();
    mockCommands({
      team_database_status: () => DESK,
      save_team_database: () => ({ ...DESK, savedUrl: TEAM_URL, restartNeeded: true }),
      restart_app: () => null,
    });
    renderWithQueries(<TeamDatabasePanel />);
    await screen.findByText("This desk's own data");
    await user.type(screen.getByLabelText("Database URL"), `  ${TEAM_URL} `);
    await user.type(screen.getByLabelText("Database password"), "s3cret");
    await user.click(screen.getByRole("button", { name: "Save and restart" }));

    await waitFor(() => expect(callsOf("restart_app")).toHaveLength(1));
    expect(callsOf("save_team_database")).toEqual([{ url: TEAM_URL, password: "s3cret" }]);
    expect(await screen.findByText(`Saved for the next start: ${TEAM_URL}`)).toBeTruthy();
    expect(screen.getByText("The change takes effect after a restart.")).toBeTruthy();
    expect(screen.getByLabelText<HTMLInputElement>("Database password").value).toBe("");
  });

  it("goes back to the desk's own data after confirming, and offers the restart", async () => {
    const user = userEvent.setup();
    const team: TeamDatabaseStatus = {
      ...DESK,
      mode: "team",
      location: TEAM_URL,
      source: "settings",
      savedUrl: TEAM_URL,
    };
    mockCommands({
      team_database_status: () => team,
      clear_team_database: () => ({ ...team, savedUrl: null, restartNeeded: true }),
      restart_app: () => null,
    });
    renderWithQueries(<TeamDatabasePanel />);
    expect(await screen.findByText("Team database")).toBeTruthy();
    expect(screen.getByText("Saved in Settings")).toBeTruthy();
    expect(screen.getByLabelText<HTMLInputElement>("Database URL").value).toBe(TEAM_URL);

    await user.click(screen.getByRole("button", { name: "Use this desk's own data" }));
    const dialog = screen.getByRole("alertdialog", { name: "Use this desk's own data?" });
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(callsOf("clear_team_database")).toEqual([]);

    await user.click(screen.getByRole("button", { name: "Use this desk's own data" }));
    await user.click(
      within(screen.getByRole("alertdialog")).getByRole("button", { name: "Use this desk's own data" }),
    );
    expect(await screen.findByText("This desk will use its own data from the next start.")).toBeTruthy();
    expect(callsOf("clear_team_database")).toHaveLength(1);
    expect(callsOf("restart_app")).toEqual([]);
    await user.click(screen.getByRole("button", { name: "Restart now" }));
    await waitFor(() => expect(callsOf("restart_app")).toHaveLength(1));
  });

  it("says why a team database named at start is not in use, here and in the header", async () => {
    const fallback: TeamDatabaseStatus = {
      ...DESK,
      source: "environment",
      environmentUrl: TEAM_URL,
      restartNeeded: true,
      error: {
        code: "offline",
        message: `Team database unreachable: error connecting to server (${TEAM_URL}) — using this desk's own data.`,
        hint: "Check that the team database is running and reachable (and its password), then restart.",
      },
    };
    mockCommands({ team_database_status: () => fallback, app_info: () => ({}), fleet_freshness: () => null });
    renderWithQueries(
      <>
        <Header refreshing={false} refreshError={null} onRefresh={() => {}} />
        <TeamDatabasePanel />
      </>,
    );
    const banner = await screen.findByRole("alert", { name: "Team database notice" });
    expect(banner.textContent).toBe("Team database unreachable — using this desk's own data");
    expect(banner.getAttribute("title")).toContain("error connecting to server");
    expect(await screen.findByText("Named by OTA_CONSOLE_DATABASE_URL")).toBeTruthy();
    expect(screen.getByText(/Team database unreachable: error connecting/)).toBeTruthy();
    expect(screen.getByText(/OTA_CONSOLE_DATABASE_URL is set for this app/)).toBeTruthy();
    expect(screen.getByText("Restart to try the team database again.")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Restart now" })).toBeTruthy();
  });

  it("shows Unreachable when the team database stops answering", async () => {
    mockCommands({
      team_database_status: () => ({
        ...DESK,
        mode: "team",
        location: TEAM_URL,
        source: "settings",
        savedUrl: TEAM_URL,
        live: false,
        error: { code: "offline", message: "The team database cannot be reached: connection refused" },
      }),
    });
    renderWithQueries(<TeamDatabasePanel />);
    const state = await screen.findByRole("status", { name: "Database state" });
    expect(state.textContent).toBe("Unreachable");
    expect(state.className).toContain("freshness-cached");
    expect(screen.getByText(/cannot be reached: connection refused/)).toBeTruthy();
  });
});
