/**
 * Moved to `./mail/` (one Mailer interface, three transports). Kept so that imports of
 * the old path keep working while other branches still use it.
 */
export * from "./mail/mailer.js";
export * from "./mail/outbox.js";
