// Drives haplane's console in Debian's Chromium (headless): edits a
// server's weight through its form, then gives it a port it cannot have
// and expects the error on the port field; changes it again in a
// transaction, reads the diff and commits it; drains the server from the
// live view; opens a version's diff in the history. Arguments: the base
// URL of haplane and a directory for screenshots on failure.
import { chromium } from "playwright-core";

const [base, shots] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const context = await browser.newContext({ httpCredentials: { username: "admin", password: "s3cret" } });
const page = await context.newPage();
page.setDefaultTimeout(15000);
let step = "start";

async function shot(name) {
  const path = `${shots}/${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}

try {
  step = "open the console";
  await page.goto(`${base}/ui`);
  await page.getByRole("link", { name: "backends", exact: true }).click();
  await page.getByRole("link", { name: "pool", exact: true }).click();
  await page.getByRole("link", { name: "servers", exact: true }).click();
  await page.getByRole("link", { name: "s1", exact: true }).click();

  step = "edit the weight";
  const weight = page.locator('[data-field="weight"] input');
  await weight.fill("42");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("status").filter({ hasText: "Saved" }).waitFor();

  step = "a bad port shows at the port field";
  const port = page.locator('[data-field="port"] input');
  await port.fill("99999");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("alert").waitFor();
  const message = page.locator('[data-field="port"].error .message');
  await message.waitFor();
  console.log(`port error: ${await message.textContent()}`);
  const others = await page.locator(".field.error").count();
  if (others !== 1) throw new Error(`${others} fields marked in error, not only the port`);

  step = "HAProxy's refusal shows at the field it quotes";
  await port.fill("8080");
  const address = page.locator('[data-field="address"] input');
  await address.fill("no-such-host.invalid");
  await page.getByRole("button", { name: "Save" }).click();
  await page.locator('[data-field="address"].error .message').waitFor();
  console.log(`address error: ${await page.locator('[data-field="address"].error .message').textContent()}`);
  await address.fill("127.0.0.1");

  step = "a child named by a query parameter: the userlist's users";
  await page.getByRole("link", { name: "userlists", exact: true }).click();
  await page.getByRole("link", { name: "api", exact: true }).click();
  await page.getByRole("link", { name: "users", exact: true }).click();
  await page.getByRole("link", { name: "admin", exact: true }).waitFor();

  step = "a transaction: change, diff, commit";
  await page.getByRole("link", { name: "Configuration" }).click();
  await page.getByRole("button", { name: "Start a transaction" }).click();
  await page.locator("#txbar").waitFor({ state: "visible" });
  await page.getByRole("link", { name: "backends", exact: true }).click();
  await page.getByRole("link", { name: "pool", exact: true }).click();
  await page.getByRole("link", { name: "servers", exact: true }).click();
  await page.getByRole("link", { name: "s1", exact: true }).click();
  await page.locator('[data-field="weight"] input').fill("43");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("status").filter({ hasText: "kept in the transaction" }).waitFor();
  await page.getByRole("button", { name: "Diff" }).click();
  await page.locator("pre.diff").filter({ hasText: "weight 43" }).waitFor();
  await page.getByRole("button", { name: "Commit" }).click();
  await page.getByRole("status").filter({ hasText: "committed" }).waitFor();

  step = "drain it in the live view";
  await page.getByRole("link", { name: "Live servers" }).click();
  const row = page.locator('[data-server="pool/s1"]');
  await row.getByRole("button", { name: "drain" }).click();
  await row.locator(".state").filter({ hasText: "drain" }).waitFor();

  step = "the history shows a diff";
  await page.getByRole("link", { name: "History" }).click();
  const rows = page.locator("tbody tr");
  await rows.first().waitFor();
  await rows.first().locator("a").click();
  await page.locator("pre.diff").filter({ hasText: "weight 43" }).waitFor();
  await shot("console-history");
  step = "restore a version in one click";
  await page.getByRole("button", { name: /^Restore version/ }).click();
  await page.getByRole("status").filter({ hasText: "restored" }).waitFor();
  console.log("console: all steps passed");
} catch (e) {
  const path = await shot(step.replace(/\W+/g, "-"));
  console.error(`console test failed at "${step}": ${e.message}\nscreenshot: ${path}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
