import { useRef, type ReactNode } from "react";
import { AlertDialog, Dialog } from "radix-ui";

// Radix's dialogs trap focus, close on Escape and label themselves from their title: the
// accessible behaviour, not re-implemented here. Returning focus is done here: these
// dialogs are opened from state (no Radix Trigger), and the element that opened one is
// often gone when it closes (a revoked key's buttons, a deleted row, a closed modal).

/**
 * Focus back to what had it when the dialog opened or, when that is gone, to the page's
 * <main> (Layout's, tabIndex -1), never to <body> where a keyboard user starts over.
 */
function useReturnFocus() {
  const opener = useRef<Element | null>(null);
  return {
    onOpenAutoFocus: () => {
      opener.current = document.activeElement;
    },
    onCloseAutoFocus: (event: Event) => {
      event.preventDefault();
      const back = opener.current;
      const gone = !(back instanceof HTMLElement) || !back.isConnected || back === document.body;
      (gone ? document.getElementById("main") : back)?.focus();
    },
  };
}

export function Modal({
  open,
  onOpenChange,
  title,
  description,
  children,
  wide,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  description?: ReactNode;
  children: ReactNode;
  wide?: boolean;
}) {
  const returnFocus = useReturnFocus();
  return (
    <Dialog.Root open={open} onOpenChange={onOpenChange}>
      <Dialog.Portal>
        <Dialog.Overlay className="overlay" />
        <Dialog.Content className={wide ? "modal modal-wide" : "modal"} {...returnFocus}>
          <Dialog.Title className="modal-title">{title}</Dialog.Title>
          {description ? (
            <Dialog.Description className="modal-description">{description}</Dialog.Description>
          ) : (
            <Dialog.Description className="visually-hidden">{title}</Dialog.Description>
          )}
          {children}
          <Dialog.Close asChild>
            <button type="button" className="modal-close" aria-label="Close">
              ×
            </button>
          </Dialog.Close>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

/** A destructive or security-relevant action, confirmed in its own words. */
export function ConfirmDialog({
  open,
  onOpenChange,
  title,
  description,
  confirmLabel,
  onConfirm,
  pending,
  danger = true,
  children,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  description: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  pending?: boolean;
  danger?: boolean;
  children?: ReactNode;
}) {
  const returnFocus = useReturnFocus();
  return (
    <AlertDialog.Root open={open} onOpenChange={onOpenChange}>
      <AlertDialog.Portal>
        <AlertDialog.Overlay className="overlay" />
        <AlertDialog.Content className="modal" {...returnFocus}>
          <AlertDialog.Title className="modal-title">{title}</AlertDialog.Title>
          <AlertDialog.Description asChild>
            <div className="modal-description">{description}</div>
          </AlertDialog.Description>
          {children}
          <div className="modal-actions">
            <AlertDialog.Cancel asChild>
              <button type="button" className="button">
                Cancel
              </button>
            </AlertDialog.Cancel>
            <button
              type="button"
              className={danger ? "button button-danger" : "button button-primary"}
              onClick={onConfirm}
              disabled={pending}
            >
              {pending ? "Working…" : confirmLabel}
            </button>
          </div>
        </AlertDialog.Content>
      </AlertDialog.Portal>
    </AlertDialog.Root>
  );
}
