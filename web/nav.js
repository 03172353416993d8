// Moving between the console's views, for app.js and the views it routes to, so
// that no view imports app.js (which imports them): app.js hands over its router once.
import { signOut } from './api.js';

let router = null;
let pending = null;

export function setRouter(route) {
  router = route;
}

// Opens a view; `note` is announced once it shows.
export function go(hash, note, kind = 'info') {
  pending = note ? { note, kind } : null;
  if (location.hash !== hash) history.pushState(null, '', hash);
  router();
}

// Signed out by the API (deleted, or a token it no longer takes): back to sign-in, told why.
export function endSession(note, kind = 'error') {
  signOut();
  go('#/sign-in', note, kind);
}

// The note go left for the view being opened: read while it loads, taken once it shows.
export function pendingNote() {
  return pending;
}

export function takeNote() {
  const note = pending;
  pending = null;
  return note;
}
