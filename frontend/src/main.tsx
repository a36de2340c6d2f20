// Entry point: marks this page load (the e2e tests check no reload happens) and mounts the app.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import './styles.css';

declare global {
  interface Window {
    __cadreBoot?: string;
  }
}

/** Base of the random part of the boot marker (digits and letters). */
const MARKER_RADIX = 36;
/** Drops the "0." in front of Math.random()'s digits. */
const RANDOM_PREFIX = 2;

window.__cadreBoot ??= `${Date.now()}-${Math.random().toString(MARKER_RADIX).slice(RANDOM_PREFIX)}`;

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
