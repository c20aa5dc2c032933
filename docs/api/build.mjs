// Builds the documentation site as static files in docs/api/dist, laid out as it is
// served (the local runtime serves this tree; in AWS it is copied to a bucket as it is):
//
//   api/openapi.yaml, api/openapi.json      the contract
//   api/docs/index.html, init.js, Swagger UI  the reference (assets from swagger-ui-dist)
//   api/docs/guides/*.html, guides.css      docs/guides/*.md rendered, with the tested
//                                           examples of docs/examples/ filled in
//   api/docs/postman.json                   a Postman collection converted from the spec
//
// It fails (exit 1) on a broken link between guides, an unknown example, or a missing
// file, so the site cannot be published half-made. Run by `make docs` (make dev and make
// test do it): `node docs/api/build.mjs`.

import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { Marked } from "marked";
import yaml from "js-yaml";

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const dist = join(here, "dist");
const site = join(dist, "api", "docs");

/** The guides in reading order (docs/guides/NAME.md); each must exist, and no other. */
const GUIDES = [
  "index",
  "getting-started",
  "authentication",
  "rate-limits",
  "errors",
  "pagination",
  "idempotency",
  "webhooks",
  "sending-email",
  "crm-sync",
  "best-practices",
  "changelog",
];
/** The example languages, as tabs: folder, file extension, label, highlight class. */
const LANGUAGES = [
  ["curl", "sh", "cURL", "bash"],
  ["node", "mjs", "Node.js", "javascript"],
  ["python", "py", "Python", "python"],
  ["php", "php", "PHP", "php"],
];
const SWAGGER_FILES = [
  "swagger-ui.css",
  "swagger-ui-bundle.js",
  "swagger-ui-standalone-preset.js",
  "favicon-32x32.png",
  "favicon-16x16.png",
];

const problems = [];
const fail = (message) => problems.push(message);

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(site, "guides"), { recursive: true });

// The contract and the reference page.
const specText = readFileSync(join(root, "openapi.yaml"), "utf8");
const spec = yaml.load(specText);
writeFileSync(join(dist, "api", "openapi.yaml"), specText);
writeFileSync(join(dist, "api", "openapi.json"), JSON.stringify(spec));
for (const file of ["index.html", "init.js"]) copyFileSync(join(here, file), join(site, file));
const swagger = dirname(require.resolve("swagger-ui-dist/package.json"));
for (const file of SWAGGER_FILES) copyFileSync(join(swagger, file), join(site, file));

// The guides.
const escape = (text) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const slug = (text) =>
  text
    .toLowerCase()
    .replace(/<[^>]+>/g, "")
    .replace(/&[a-z]+;/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");

function example(name, guide) {
  const tabs = LANGUAGES.map(([folder, ext, label, lang], i) => {
    let code;
    try {
      code = readFileSync(join(root, "docs", "examples", folder, `${name}.${ext}`), "utf8");
    } catch {
      fail(`${guide}.md: no example docs/examples/${folder}/${name}.${ext}`);
      return "";
    }
    return (
      `<details class="tab"${i === 0 ? " open" : ""}><summary>${label}</summary>` +
      `<pre><code class="language-${lang}">${escape(code)}</code></pre>` +
      `<p class="source">docs/examples/${folder}/${name}.${ext}, run against the API by the test suite</p></details>`
    );
  });
  return `<div class="example" data-example="${name}">${tabs.join("")}</div>`;
}

const sources = Object.fromEntries(
  readdirSync(join(root, "docs", "guides"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => [f.slice(0, -3), readFileSync(join(root, "docs", "guides", f), "utf8")]),
);
for (const name of Object.keys(sources))
  if (!GUIDES.includes(name)) fail(`docs/guides/${name}.md is not in build.mjs's GUIDES`);
const titles = {};
for (const name of GUIDES) {
  const source = sources[name];
  if (source === undefined) {
    fail(`docs/guides/${name}.md is missing`);
    continue;
  }
  const title = /^# (.+)$/m.exec(source);
  if (!title) fail(`docs/guides/${name}.md has no "# Title" line`);
  titles[name] = title ? title[1].trim() : name;
}

const anchors = {}; // guide -> the ids of its headings
const links = []; // [guide, target guide, anchor]
const rendered = {};
for (const name of GUIDES.filter((n) => sources[n] !== undefined)) {
  const ids = new Set();
  const marked = new Marked({
    gfm: true,
    renderer: {
      heading({ tokens, depth }) {
        const inner = this.parser.parseInline(tokens);
        let id = slug(inner);
        for (let n = 1; ids.has(id); n++) id = `${slug(inner)}-${n}`;
        ids.add(id);
        return `<h${depth} id="${id}"><a class="anchor" href="#${id}">${inner}</a></h${depth}>\n`;
      },
      html({ text }) {
        const marker = /^\s*<!--\s*example:\s*([a-z_]+)\s*-->\s*$/.exec(text);
        return marker ? example(marker[1], name) + "\n" : text;
      },
    },
    walkTokens(token) {
      if (token.type !== "link") return;
      const local = /^([a-z0-9-]+)\.md(#[a-z0-9-]+)?$/.exec(token.href);
      if (local) {
        links.push([name, local[1], local[2]?.slice(1)]);
        token.href = `${local[1]}.html${local[2] ?? ""}`;
      } else if (token.href.startsWith("#")) {
        links.push([name, name, token.href.slice(1)]);
      } else if (/\.md(#|$)/.test(token.href)) {
        fail(`${name}.md links to ${token.href}, which is not a guide`);
      }
    },
  });
  rendered[name] = marked.parse(sources[name]);
  anchors[name] = ids;
}
for (const [from, to, anchor] of links) {
  if (!anchors[to]) fail(`${from}.md links to ${to}.md, which does not exist`);
  else if (anchor && !anchors[to].has(anchor)) fail(`${from}.md links to ${to}.md#${anchor}, which has no such heading`);
}

const nav = GUIDES.filter((n) => titles[n])
  .map((n) => `<li><a href="${n}.html">${escape(titles[n])}</a></li>`)
  .join("");
for (const [name, body] of Object.entries(rendered)) {
  const page = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escape(titles[name])} · PenguinMails API</title>
  <link rel="icon" type="image/png" href="../favicon-32x32.png">
  <link rel="stylesheet" href="guides.css">
</head>
<body>
  <header><a href="index.html">PenguinMails API guides</a> <a href="../">API reference</a> <a href="../postman.json">Postman collection</a></header>
  <div class="layout">
    <nav aria-label="Guides"><ul>${nav}</ul></nav>
    <main>
${body}
    </main>
  </div>
</body>
</html>
`;
  writeFileSync(join(site, "guides", `${name}.html`), page);
}
copyFileSync(join(here, "guides.css"), join(site, "guides", "guides.css"));

// The Postman collection.
const collection = await postman(specText, spec);
writeFileSync(join(site, "postman.json"), JSON.stringify(collection, null, 2));

if (problems.length) {
  console.error(`docs/api/build.mjs: ${problems.length} problem(s):\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`docs/api/dist: ${GUIDES.length} guides, ${count(collection.item)} Postman requests`);

function count(items) {
  return items.reduce((n, item) => n + (item.item ? count(item.item) : 1), 0);
}

/**
 * openapi.yaml converted by openapi-to-postmanv2, then made runnable as a smoke test:
 * each request authenticates with the credential its operation names ({{apiKey}} or
 * {{sessionToken}}), requests follow each other (a create stores the new id, later
 * requests on that resource use it), and each one checks that its answer's status is one
 * the spec documents for it and is not a server error. newman runs it in `make test`.
 */
async function postman(text, spec) {
  const Converter = require("openapi-to-postmanv2");
  const result = await new Promise((resolve, reject) =>
    Converter.convert(
      { type: "string", data: text },
      { folderStrategy: "Tags", parametersResolution: "Example", enableOptionalParameters: false },
      (error, out) => (error ? reject(error) : resolve(out)),
    ),
  );
  if (!result.result) throw new Error(`openapi-to-postmanv2: ${result.reason}`);
  const collection = result.output[0].data;

  const operations = {};
  for (const [path, item] of Object.entries(spec.paths))
    for (const [method, op] of Object.entries(item))
      if (op && op.responses) operations[`${method.toUpperCase()} ${path}`] = op;

  collection.variable = [
    { key: "baseUrl", value: "http://127.0.0.1:3000", type: "string" },
    { key: "apiKey", value: "", type: "string" },
    { key: "sessionToken", value: "", type: "string" },
  ];
  collection.auth = { type: "bearer", bearer: [{ key: "token", value: "{{apiKey}}", type: "string" }] };

  const visit = (items) => {
    for (const item of items) {
      if (item.item) {
        visit(item.item);
        continue;
      }
      const request = item.request;
      const segments = request.url.path.map((s) => (s.startsWith(":") ? `{${s.slice(1)}}` : s));
      const path = "/" + segments.join("/");
      const key = `${request.method} ${path}`;
      const op = operations[key];
      if (!op) {
        fail(`postman: ${key} is not an operation of openapi.yaml`);
        continue;
      }
      // The resource this request belongs to, named by its collection path.
      const resource = path.replace(/\/\{[a-z_]+\}.*$/, "").replace(/^\/api\/v1\//, "").replace(/[^a-z]+/g, "_");
      const security = op.security ?? spec.security ?? [];
      const scheme = Object.keys(security[0] ?? {})[0];
      request.auth =
        scheme === "SessionAuth"
          ? { type: "bearer", bearer: [{ key: "token", value: "{{sessionToken}}", type: "string" }] }
          : scheme === "ApiKeyAuth"
            ? { type: "bearer", bearer: [{ key: "token", value: "{{apiKey}}", type: "string" }] }
            : { type: "noauth" };
      for (const variable of request.url.variable ?? [])
        if (variable.key === "id" && segments.length > 3 && segments[3] === "{id}")
          variable.value = `{{${resource}_id}}`;
      const statuses = Object.keys(op.responses).map(Number);
      const exec = [
        `pm.test("${key} answers with a documented status", function () {`,
        `  pm.expect(pm.response.code, pm.response.text()).to.be.oneOf(${JSON.stringify(statuses)});`,
        `  pm.expect(pm.response.code, pm.response.text()).to.be.below(500);`,
        `});`,
      ];
      if (request.method === "POST" && statuses.includes(201) && !path.includes("{"))
        exec.push(
          `if (pm.response.code === 201) { pm.collectionVariables.set("${resource}_id", pm.response.json().id); }`,
        );
      item.event = [{ listen: "test", script: { type: "text/javascript", exec } }];
    }
  };
  visit(collection.item);
  return collection;
}
