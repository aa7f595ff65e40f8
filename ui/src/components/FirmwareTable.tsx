import type { FirmwareEntry } from "../bindings/FirmwareEntry";
import { t } from "../i18n";
import { formatDateTime, formatSize } from "../lib/format";
import { CloudBadge } from "./CloudBadge";

interface Props {
  entries: FirmwareEntry[];
  onPublish: (entry: FirmwareEntry) => void;
  onDelete: (entry: FirmwareEntry) => void;
}

/** The first characters of a hash; the whole of it is in the title. */
const short = (hash: string) => `${hash.slice(0, 10)}…`;

/** The library: what each package is, where it was published, and which campaigns use it. */
export function FirmwareTable({ entries, onPublish, onDelete }: Props) {
  return (
    <div className="table-scroll">
      <table className="data-table" aria-label={t("library.tableLabel")}>
        <thead>
          <tr>
            <th scope="col">{t("library.file")}</th>
            <th scope="col">{t("library.version")}</th>
            <th scope="col">{t("library.cloud")}</th>
            <th scope="col">{t("library.model")}</th>
            <th scope="col">{t("library.size")}</th>
            <th scope="col">{t("library.hashes")}</th>
            <th scope="col">{t("library.added")}</th>
            <th scope="col">{t("library.published")}</th>
            <th scope="col">{t("library.usedBy")}</th>
            <th scope="col">{t("library.actions")}</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => {
            const names = { file: entry.fileName, version: entry.version };
            const inUse = entry.campaigns > 0;
            const inUseId = `firmware-${entry.id}-in-use`;
            return (
              <tr key={entry.id} data-firmware-id={entry.id}>
                <td title={entry.notes || undefined}>{entry.fileName}</td>
                <td>{entry.version}</td>
                <td>
                  <CloudBadge cloud={entry.cloud} />
                </td>
                <td>{entry.model ?? t("library.anyModel")}</td>
                <td>{formatSize(entry.size)}</td>
                <td className="mono">
                  <span title={`MD5 ${entry.md5}`}>{short(entry.md5)}</span>{" "}
                  <span title={`SHA-256 ${entry.sha256}`}>{short(entry.sha256)}</span>
                </td>
                <td>{t("library.addedBy", { who: entry.addedBy, when: formatDateTime(entry.addedAt) })}</td>
                <td>
                  {entry.publications.length === 0
                    ? t("library.notPublished")
                    : entry.publications.map((p) => (
                        <div key={p.accountId} title={formatDateTime(p.publishedAt)}>
                          {p.accountName}: {p.detail}
                        </div>
                      ))}
                </td>
                <td>{entry.campaigns}</td>
                <td className="cell-actions">
                  <button
                    type="button"
                    className="button small"
                    aria-label={t("library.publishLabel", names)}
                    onClick={() => onPublish(entry)}
                  >
                    {t("library.publish")}
                  </button>{" "}
                  <button
                    type="button"
                    className="button small danger"
                    aria-label={t("library.deleteLabel", names)}
                    aria-disabled={inUse}
                    aria-describedby={inUse ? inUseId : undefined}
                    title={inUse ? t("library.deleteInUse", { n: entry.campaigns }) : undefined}
                    onClick={() => {
                      if (!inUse) onDelete(entry);
                    }}
                  >
                    {t("library.delete")}
                  </button>
                  {inUse ? (
                    <span id={inUseId} className="visually-hidden">
                      {t("library.deleteInUse", { n: entry.campaigns })}
                    </span>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
