// The events a webhook receives: every type from the event-types endpoint, grouped by
// resource (email.*, campaign.*, contact.*), each group with its own "select all", and
// "All events" (`["*"]`, which also covers types added later).
import type { Ref } from "react";
import { CheckWithHint } from "../../components/CheckWithHint";
import { ALL_EVENTS, type EventTypeInfo } from "./types";

interface Group {
  resource: string;
  types: EventTypeInfo[];
}

/** Groups in the order the API lists the types. */
function groupByResource(eventTypes: EventTypeInfo[]): Group[] {
  const groups: Group[] = [];
  for (const info of eventTypes) {
    const resource = info.type.split(".")[0] ?? info.type;
    const group = groups.find((g) => g.resource === resource);
    if (group) group.types.push(info);
    else groups.push({ resource, types: [info] });
  }
  return groups;
}

const capitalise = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

export function EventTypePicker({
  eventTypes,
  value,
  onChange,
  error,
  errorId,
  allEventsRef,
}: {
  eventTypes: EventTypeInfo[];
  value: string[];
  onChange: (value: string[]) => void;
  error?: string;
  errorId: string;
  /** Where focus goes when the field is invalid. */
  allEventsRef?: Ref<HTMLInputElement>;
}) {
  const all = value.includes(ALL_EVENTS);
  // Kept in the catalogue's order, so the request does not depend on the clicking order.
  const setTypes = (selected: Set<string>) => onChange(eventTypes.map((t) => t.type).filter((t) => selected.has(t)));
  const toggle = (types: string[], on: boolean) => {
    const selected = new Set(value);
    for (const t of types) {
      if (on) selected.add(t);
      else selected.delete(t);
    }
    setTypes(selected);
  };

  return (
    <fieldset className="event-picker" aria-describedby={error ? errorId : undefined}>
      <legend>Events</legend>
      <CheckWithHint
        label="All events (*)"
        hint="Every event type, including types added later."
        ref={allEventsRef}
        checked={all}
        onChange={(e) => onChange(e.target.checked ? [ALL_EVENTS] : [])}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errorId : undefined}
      />
      {groupByResource(eventTypes).map((group) => {
        const types = group.types.map((t) => t.type);
        const chosen = types.filter((t) => value.includes(t)).length;
        const label = capitalise(group.resource);
        return (
          <fieldset key={group.resource} className="event-group" disabled={all}>
            <legend>{label} events</legend>
            <label className="check">
              <input
                type="checkbox"
                checked={all || chosen === types.length}
                // A partly chosen group shows as mixed (a DOM property, not an attribute).
                ref={(el) => {
                  if (el) el.indeterminate = !all && chosen > 0 && chosen < types.length;
                }}
                onChange={(e) => toggle(types, e.target.checked)}
              />
              <span>Select all {group.resource} events</span>
            </label>
            <div className="checks">
              {group.types.map((info) => (
                <CheckWithHint
                  key={info.type}
                  label={<code>{info.type}</code>}
                  hint={info.description}
                  value={info.type}
                  checked={all || value.includes(info.type)}
                  onChange={(e) => toggle([info.type], e.target.checked)}
                />
              ))}
            </div>
          </fieldset>
        );
      })}
      {error && (
        <p id={errorId} className="field-error">
          {error}
        </p>
      )}
    </fieldset>
  );
}
