// A connection's field mapping: each field's CRM property, direction and conflict rule,
// custom fields added from the properties the CRM describes. Saved whole (PUT), as the
// API takes it; the API's field errors show beside the form.
import { useEffect, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Loading";
import { integrationKeys, integrationsApi, type FieldMapping, type LocalField } from "./integrationsApi";

const NAMES: Record<string, string> = {
  email: "Email",
  first_name: "First name",
  last_name: "Last name",
  company: "Company",
  phone: "Phone",
  tags: "Tags",
  status: "Status",
  last_opened_at: "Last opened",
  last_replied_at: "Last replied",
  campaign_status: "Campaign status",
};
/** Engagement comes from the email events: it can only go to the CRM. */
const PUSH_ONLY = new Set(["last_opened_at", "last_replied_at", "campaign_status"]);

const label = (local: LocalField) => (typeof local === "string" ? NAMES[local] ?? local : `Custom: ${local.custom}`);
const key = (local: LocalField) => (typeof local === "string" ? local : `custom:${local.custom}`);

export function MappingEditor({ provider, manage }: { provider: string; manage: boolean }) {
  const queryClient = useQueryClient();
  const mapping = useQuery({ queryKey: integrationKeys.mapping(provider), queryFn: () => integrationsApi.mapping(provider) });
  const [rows, setRows] = useState<FieldMapping[]>([]);
  const [custom, setCustom] = useState("");
  const [property, setProperty] = useState("");
  useEffect(() => {
    if (mapping.data) setRows(mapping.data.fields);
  }, [mapping.data]);
  const save = useMutation({
    mutationFn: () => integrationsApi.saveMapping(provider, rows),
    onSuccess: (saved) => queryClient.setQueryData(integrationKeys.mapping(provider), { ...mapping.data, fields: saved.fields }),
  });
  if (mapping.isPending) return <Loading label="Loading the mapping" />;
  if (mapping.isError) return <ErrorNotice error={mapping.error} retry={() => void mapping.refetch()} />;
  const properties = mapping.data.properties ?? [];
  const change = (i: number, patch: Partial<FieldMapping>) =>
    setRows((all) => all.map((row, j) => (j === i ? { ...row, ...patch } : row)));
  const taken = new Set(rows.map((r) => r.remote));
  const add = () => {
    setRows((all) => [...all, { local: { custom: custom.trim() }, remote: property, direction: "both", conflict: "newest_wins" }]);
    setCustom("");
    setProperty("");
  };
  return (
    <form
      className="mapping-form"
      aria-label="Field mapping"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">PenguinMails</th>
            <th scope="col">CRM property</th>
            <th scope="col">Direction</th>
            <th scope="col">When both changed</th>
            {manage && <th scope="col"><span className="visually-hidden">Remove</span></th>}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => {
            const name = label(row.local);
            const pushOnly = typeof row.local === "string" && PUSH_ONLY.has(row.local);
            return (
              <tr key={key(row.local)} data-testid="mapping-row">
                <td>{name}</td>
                <td>
                  <code>{row.remote}</code>
                </td>
                <td>
                  <select
                    aria-label={`Direction of ${name}`}
                    value={row.direction}
                    disabled={!manage || pushOnly}
                    onChange={(e) => change(i, { direction: e.target.value as FieldMapping["direction"] })}
                  >
                    <option value="both">Both ways</option>
                    <option value="push">To the CRM</option>
                    <option value="pull">From the CRM</option>
                  </select>
                </td>
                <td>
                  <select
                    aria-label={`Conflict rule of ${name}`}
                    value={row.conflict}
                    disabled={!manage}
                    onChange={(e) => change(i, { conflict: e.target.value as FieldMapping["conflict"] })}
                  >
                    <option value="newest_wins">Newest wins</option>
                    <option value="crm_wins">CRM wins</option>
                    <option value="penguinmails_wins">PenguinMails wins</option>
                  </select>
                </td>
                {manage && (
                  <td>
                    {row.local !== "email" && (
                      <button type="button" className="button" onClick={() => setRows((all) => all.filter((_, j) => j !== i))}>
                        Remove {name}
                      </button>
                    )}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      </div>
      {manage && properties.length > 0 && (
        <fieldset className="mapping-add">
          <legend>Add a custom field</legend>
          <label>
            Custom field name
            <input value={custom} onChange={(e) => setCustom(e.target.value)} maxLength={100} />
          </label>
          <label>
            CRM property
            <select value={property} onChange={(e) => setProperty(e.target.value)}>
              <option value="">Choose…</option>
              {properties
                .filter((p) => !taken.has(p.name))
                .map((p) => (
                  <option key={p.name} value={p.name}>
                    {p.label} ({p.name})
                  </option>
                ))}
            </select>
          </label>
          <button type="button" className="button" onClick={add} disabled={!custom.trim() || !property}>
            Add field
          </button>
        </fieldset>
      )}
      {save.isError && <ErrorNotice error={save.error} />}
      {save.isSuccess && <p role="status">Mapping saved.</p>}
      {manage && (
        <button type="submit" className="button button-primary" disabled={save.isPending}>
          Save mapping
        </button>
      )}
    </form>
  );
}
