// The console and the members' portal in a real browser: Debian's Chromium, headless, driven
// by playwright-core; accessibility checked on every page with axe-core. Started by
// scripts/browser_test.py with a server already running on a seeded database:
//
//   node tests/browser/console.mjs BASE_URL SEED_JSON SCREENSHOT_DIR
//
// SEED_JSON names the accounts and ids the seeding made (see scripts/browser_test.py).
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import axe from 'axe-core';

const [base, seedFile, screens] = process.argv.slice(2);
const seed = JSON.parse(readFileSync(seedFile, 'utf8'));
mkdirSync(screens, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});

const problems = [];
let checkedPages = 0;
// Addresses the suite asks for expecting a refusal (403, 404): the browser logs those
// responses as console errors, which are not the pages' fault.
const expectedRefusals = new Set();

/** A fresh browser profile that records console errors and any request off this server. */
async function person(locale) {
  const context = await browser.newContext({ locale, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    if (message.text().startsWith('Failed to load resource') && expectedRefusals.has(message.location().url)) return;
    problems.push(`console error on ${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`script error on ${page.url()}: ${error.message}`));
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(base) && !url.startsWith('data:') && !url.startsWith('about:')) {
      problems.push(`request off the machine from ${page.url()}: ${url}`);
    }
  });
  return { context, page };
}

/** axe-core on the page as it is now: no serious or critical violation allowed. */
async function accessible(page, name) {
  await page.evaluate(axe.source);
  const result = await page.evaluate(() =>
    window.axe.run(document, { resultTypes: ['violations'] }),
  );
  for (const violation of result.violations) {
    if (violation.impact === 'serious' || violation.impact === 'critical') {
      const where = violation.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ');
      problems.push(`axe ${violation.impact} on ${name}: ${violation.id} (${violation.help}) at ${where}`);
    }
  }
  await page.screenshot({ path: join(screens, `${name}.png`), fullPage: true });
  checkedPages += 1;
}

async function signIn(page, login, password) {
  await page.goto(`${base}/console`);
  assert.match(page.url(), /\/console\/login\?next=/);
  await page.getByLabel(/E-mail/).fill(login);
  await page.getByLabel(/^Password$/).fill(password);
  await page.getByRole('button', { name: /Accedi|Sign in/ }).click();
  await page.waitForURL(`${base}/console`);
}

// ---- A referent runs a month: upload with an error, fix, preview, finalise. ----
{
  const { context, page } = await person('it-IT');
  await page.goto(`${base}/console/login`);
  await accessible(page, 'login');
  // Keyboard only: the sign-in field is reached with Tab, and focus is visible there.
  let focused = null;
  for (let i = 0; i < 6 && focused !== 'login'; i += 1) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => document.activeElement?.id);
  }
  assert.equal(focused, 'login', 'the sign-in field is reachable with Tab');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'focus is visible');

  await signIn(page, seed.referent.email, seed.password);
  await accessible(page, 'operator-home');
  await page.getByRole('link', { name: seed.configuration.name }).click();
  await page.waitForURL(`${base}/console/configurations/${seed.configuration.id}`);
  await accessible(page, 'configuration');

  // The upload shows its progress (the console's own script, bound to the form).
  await page.locator('form[data-progress-ready="true"]').first().waitFor({ state: 'attached' });
  // A file with a bad value on line 3: refused whole (422), the line named on the page.
  expectedRefusals.add(`${base}/console/configurations/${seed.configuration.id}/imports`);
  await page.getByLabel(/File dei dati di misura/).setInputFiles({
    name: 'marzo-errato.csv', mimeType: 'text/csv', buffer: Buffer.from(seed.readings_broken),
  });
  await page.getByRole('button', { name: 'Carica' }).click();
  await page.getByText('Il file è stato rifiutato').waitFor();
  const refusal = await page.getByRole('alert').innerText();
  assert.match(refusal, /riga 3/, refusal);
  await accessible(page, 'import-refused');

  // The fixed file.
  await page.getByLabel(/File dei dati di misura/).setInputFiles({
    name: 'marzo.csv', mimeType: 'text/csv', buffer: Buffer.from(seed.readings),
  });
  await page.getByRole('button', { name: 'Carica' }).click();
  await page.getByText(/Importate \d+ letture/).waitFor();
  // The answer replaced the page without leaving it: the upload went through the script.
  assert.equal(page.url(), `${base}/console/configurations/${seed.configuration.id}`);
  expectedRefusals.delete(`${base}/console/configurations/${seed.configuration.id}/imports`);

  // Preview March 2025, read the report, finalise.
  await page.getByLabel('Mese', { exact: true }).fill('2025-03');
  await page.getByRole('button', { name: "Calcola l'anteprima" }).click();
  await page.waitForURL(/\/console\/runs\/\d+$/);
  await page.getByRole('heading', { name: 'Liquidazione 2025-03' }).waitFor();
  await accessible(page, 'run-preview');
  await page.getByRole('button', { name: 'Rendi definitivo il mese' }).click();
  await page.getByText('Il mese è definitivo').waitFor();
  await accessible(page, 'run-finalised');

  // Statements out: queued for the members whose holder has an address, the others listed.
  await page.getByRole('button', { name: 'Invia i rendiconti per e-mail' }).click();
  await page.getByText('Rendiconti in coda di invio').waitFor();
  await accessible(page, 'statements-sent');

  // The sharing-out policy: a sum that is not 100 is named next to the shares, then adopted.
  const policyPath = `/console/configurations/${seed.configuration.id}/policy`;
  await page.goto(`${base}${policyPath}`);
  await accessible(page, 'policy');
  expectedRefusals.add(`${base}${policyPath}`);
  await page.getByLabel('Gestione').fill('10');
  await page.getByRole('button', { name: 'Adotta la versione' }).click();
  await page.getByText('the shares must add up to 100, not 110').waitFor();
  await accessible(page, 'policy-refused');
  await page.getByLabel('Produttori', { exact: true }).fill('40');
  await page.getByRole('button', { name: 'Adotta la versione' }).click();
  await page.getByText(/Adottata la versione 1/).waitFor();
  expectedRefusals.delete(`${base}${policyPath}`);

  // Join requests: none waiting in this world; the page is still checked.
  await page.goto(`${base}/console/configurations/${seed.configuration.id}/join-requests`);
  await page.getByText('Nessuna richiesta in questo stato.').waitFor();
  await accessible(page, 'join-requests');

  // Members: server-side search and paging.
  await page.goto(`${base}/console/configurations/${seed.configuration.id}/members`);
  await accessible(page, 'members');
  await page.getByLabel(/Cerca/).fill(seed.member.pod.slice(-4));
  await page.getByRole('button', { name: 'Cerca' }).click();
  await page.getByRole('link', { name: seed.member.pod }).waitFor();

  // A form posted without the session's CSRF token (as a page elsewhere would post it, with
  // the session cookie) is refused and changes nothing. The page itself could not even try:
  // its CSP allows no fetch.
  const forged = (await page.request.post(
    `${base}/console/configurations/${seed.configuration.id}/previews`,
    { form: { month: '2025-02' }, maxRedirects: 0 },
  )).status();
  assert.equal(forged, 403);
  await context.close();
}

// ---- A member sees their own figures and documents, and nobody else's. ----
{
  const { context, page } = await person('en-GB');
  await signIn(page, seed.member.email, seed.password);
  await accessible(page, 'member-home');
  await page.getByRole('link', { name: `POD ${seed.member.pod}` }).click();
  await page.waitForURL(new RegExp(`/console/members/${seed.member.id}`));
  await page.goto(`${base}/console/members/${seed.member.id}?year=2025`);
  await page.getByRole('cell', { name: /2025-03/ }).first().waitFor();
  await accessible(page, 'member-page');
  const chart = await page.locator('img.chart').evaluate((img) => img.complete && img.naturalWidth > 0);
  assert.ok(chart, 'the energy chart loads');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'PDF 2025-03' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /\.pdf$/);

  // Another member's page by editing the URL: not found.
  expectedRefusals.add(`${base}/console/members/${seed.other_member.id}`);
  const other = await page.goto(`${base}/console/members/${seed.other_member.id}`);
  assert.equal(other.status(), 404);
  assert.ok(!(await page.content()).includes(seed.other_member.pod));
  await accessible(page, 'not-found');

  // A new IBAN, asked from the point's page: refused by its field first, then sent.
  await page.goto(`${base}/console/members/${seed.member.id}`);
  await page.getByRole('link', { name: 'ask for a change' }).click();
  const ibanPath = `${base}/console/holders/${seed.member.holder}/iban`;
  expectedRefusals.add(ibanPath);
  await page.getByLabel('New IBAN').fill('IT60X0542811101000000123457');
  await page.getByRole('button', { name: 'Send the request' }).click();
  await page.getByText(/This IBAN is not valid/).waitFor();
  await accessible(page, 'iban-refused');
  expectedRefusals.delete(ibanPath);
  await page.getByLabel('New IBAN').fill('IT98 Z123 4512 3451 2345 6789 012');
  await page.getByRole('button', { name: 'Send the request' }).click();
  await page.getByText('Request sent: the referent will review it.').waitFor();
  await accessible(page, 'iban-asked');
  await context.close();
}

// ---- The referent confirms the member's new IBAN. ----
{
  const { context, page } = await person('it-IT');
  await signIn(page, seed.referent.email, seed.password);
  await page.getByRole('link', { name: 'Cambi IBAN' }).click();
  await page.getByText('IT98 Z123 4512 3451 2345 6789 012').waitFor();
  await accessible(page, 'iban-changes');
  await page.getByRole('button', { name: 'Conferma il nuovo IBAN' }).click();
  await page.getByText(/Confermato: Socia Bianchi/).waitFor();

  // The holders of the configuration, searched, and one holder's page with its history.
  await page.getByRole('link', { name: 'Titolari' }).click();
  await page.getByLabel(/Cerca per nome/).fill('bianchi');
  await page.getByRole('button', { name: 'Cerca' }).click();
  await accessible(page, 'holders');
  await page.getByRole('link', { name: 'Socia Bianchi' }).click();
  await page.getByText('iban_change_request: ', { exact: false }).waitFor();
  await accessible(page, 'holder');

  // Payouts: March is final, so a batch can be prepared (everyone held back here: the
  // holders are drafts) and read.
  await page.goto(`${base}/console/configurations/${seed.configuration.id}/payouts`);
  await accessible(page, 'payouts');
  await page.getByLabel('Paga i crediti fino al mese').fill('2025-03');
  await page.getByRole('button', { name: 'Prepara la distinta' }).click();
  await page.waitForURL(/\/console\/payouts\/\d+$/);
  await page.getByText('anteprima').first().waitFor();
  await accessible(page, 'payout');

  // GSE's figures against ours: March has only our side yet.
  await page.goto(`${base}/console/configurations/${seed.configuration.id}/reconciliation?year=2025`);
  await page.getByText('manca un lato').first().waitFor();
  await accessible(page, 'reconciliation');
  await context.close();
}

// ---- A newcomer asks to join on the public page, without an account. ----
{
  const { context, page } = await person('it-IT');
  const joinPath = `${base}/console/join/${seed.configuration.id}`;
  await page.goto(joinPath);
  await accessible(page, 'join');
  for (const [label, value] of [
    ['Nome', 'Giulia'], ['Cognome', 'Verdi'], ['Codice fiscale', 'BNCGLI90A41H501E'],
    ['Via e numero civico', 'Via Roma 1'], ['CAP', '35100'], ['Comune', 'Padova'],
    ['Provincia (sigla)', 'PD'], ['E-mail', 'giulia.verdi@example.com'], ['POD 1', 'IT001E00099999'],
  ]) {
    await page.getByLabel(label, { exact: false }).first().fill(value);
  }
  await page.getByLabel(/informativa privacy/).check();
  // The statute left unaccepted: refused beside it, everything typed kept.
  expectedRefusals.add(joinPath);
  await page.getByRole('button', { name: 'Invia la richiesta' }).click();
  await page.getByText("Per entrare serve l'accettazione dello statuto.").waitFor();
  await accessible(page, 'join-refused');
  expectedRefusals.delete(joinPath);
  assert.equal(await page.getByLabel('Comune').inputValue(), 'Padova');
  await page.getByLabel(/statuto della comunità/).check();
  await page.getByRole('button', { name: 'Invia la richiesta' }).click();
  await page.getByText(/Richiesta ricevuta/).waitFor();
  await context.close();
}

await browser.close();
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`browser suite: passed (${checkedPages} pages checked with axe-core, screenshots in ${screens})`);
