// The few style rules of the device page's own parts (app.css is shared): added once, on first import.

const CSS = `
.hist-chips { display: inline-flex; flex-wrap: wrap; gap: 0.3rem; }
.hist-chip { display: inline-flex; align-items: center; gap: 0.3rem; padding: 0.1rem 0.2rem 0.1rem 0.5rem; border: 1px solid #d1d5db;
  border-radius: 999px; font-size: 0.82rem; }
.hist-chip button { border: 0; background: none; cursor: pointer; font-size: 1rem; line-height: 1; padding: 0 0.25rem; color: #6b7280; }
.hist-chip button:hover { color: #111827; }
.hist-dot { width: 0.6rem; height: 0.6rem; border-radius: 50%; display: inline-block; }
.stream .add-stream { float: right; }
.device-keys code { word-break: break-all; }
.stream-settings td .actions { justify-content: flex-end; }
`;

if (!document.getElementById('device-style')) {
  const style = document.createElement('style');
  style.id = 'device-style';
  style.textContent = CSS;
  document.head.append(style);
}
