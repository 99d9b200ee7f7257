// CSV cells (RFC 4180 quoting) for the history export. A text a spreadsheet would take for a formula (starting
// with =, +, -, @, a tab or a carriage return) gets a leading apostrophe, so that a value a device sent, such as
// =HYPERLINK(...), opens as the text it is. Numbers are written as they are: -5 stays a number.
export function csvCell(value) {
  let v = typeof value === 'string' ? value : JSON.stringify(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(v)) v = `'${v}`;
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}
