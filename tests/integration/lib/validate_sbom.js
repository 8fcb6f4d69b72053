// validate_sbom.js SPDX_SCHEMA spdx|cyclonedx FILE [spdx|cyclonedx FILE]...:
// checks SBOMs with the reference tools installed by sbom_validators.sh
// (NODE_PATH points at them), many in one process (node and the schemas'
// compilation took over a second a call on a busy CI machine):
//   CycloneDX: @cyclonedx/cyclonedx-library's JsonStrictValidator (the official
//     bom-1.5 schema with its spdx/jsf schemas, ajv, formats checked); bom-refs
//     unique, every dependency ref defined.
//   SPDX: the official SPDX 2.3 JSON schema (ajv, draft-07, formats checked) and the
//     rules of the SPDX validator a schema cannot state: unique SPDXIDs, relationship
//     ends that exist, SHA1 on every file, filesAnalyzed false => no files listed,
//     filesAnalyzed true => a verification code matching the listed files, every
//     LicenseRef used defined once with a text.
//   Both: every purl parsed by packageurl-js (type deb, namespace debian, name,
//     version with the epoch's ':' unencoded, arch/upstream/distro qualifiers; or,
//     for an upstream archive, type generic with a name, a version and a
//     download_url qualifier), every
//     license expression parsed by spdx-expression-parse (only SPDX list identifiers
//     or LicenseRef-s).
// Prints "ok: FILE: ..." for each good file and "FILE: problem" for every
// problem; exits 0 when every file is good, 1 otherwise.
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const { PackageURL } = require('packageurl-js');
const parseLicense = require('spdx-expression-parse');

const [spdxSchema, ...pairs] = process.argv.slice(2);
// The file being checked, and its problems.
let text;
let doc;
let problems = [];
const problem = (message) => problems.push(message);

function checkPurl(purl, where) {
  let parsed;
  try {
    parsed = PackageURL.fromString(purl);
  } catch (e) {
    problem(`${where}: purl ${purl}: ${e.message}`);
    return;
  }
  if (parsed.type === 'generic') {
    // An upstream archive: name, version and the URL it was downloaded from.
    const url = (parsed.qualifiers || {}).download_url;
    if (!parsed.name || !parsed.version) problem(`${where}: purl ${purl}: no name or version`);
    if (!url || !/^(https?|file):/.test(url)) {
      problem(`${where}: purl ${purl}: no download_url qualifier`);
    }
    if (PackageURL.fromString(parsed.toString()).toString() !== parsed.toString()) {
      problem(`${where}: purl ${purl}: does not round-trip`);
    }
    return;
  }
  if (parsed.type !== 'deb' || parsed.namespace !== 'debian') {
    problem(`${where}: purl ${purl}: not pkg:deb/debian or pkg:generic`);
  }
  const q = parsed.qualifiers || {};
  for (const key of ['arch', 'upstream', 'distro']) {
    if (!q[key]) problem(`${where}: purl ${purl}: no ${key} qualifier`);
  }
  if (purl.includes('%3A')) problem(`${where}: purl ${purl}: encoded epoch colon`);
}

function checkLicense(expression, where, defined) {
  if (expression === 'NOASSERTION' || expression === 'NONE') return;
  let tree;
  try {
    tree = parseLicense(expression);
  } catch (e) {
    problem(`${where}: license "${expression}": ${e.message}`);
    return;
  }
  const walk = (node) => {
    if (node.license) {
      if (defined && node.license.startsWith('LicenseRef-') && !defined.has(node.license)) {
        problem(`${where}: ${node.license} is not defined in hasExtractedLicensingInfos`);
      }
    } else {
      walk(node.left);
      walk(node.right);
    }
  };
  walk(tree);
}

// The schema validators, made once for all the files.
let cdxValidator;
function cyclonedxValidator() {
  if (!cdxValidator) {
    const CDX = require('@cyclonedx/cyclonedx-library');
    cdxValidator = new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot5);
  }
  return cdxValidator;
}
let spdxValidate;
function spdxValidator() {
  if (!spdxValidate) {
    const Ajv = require('ajv');
    const addFormats = require('ajv-formats');
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    spdxValidate = ajv.compile(JSON.parse(fs.readFileSync(spdxSchema, 'utf8')));
  }
  return spdxValidate;
}

async function cyclonedx() {
  const errors = await cyclonedxValidator().validate(text);
  if (errors !== null && errors !== undefined) {
    problem(`CycloneDX 1.5 schema: ${JSON.stringify(errors, null, 1).slice(0, 4000)}`);
  }
  const refs = new Set();
  const addRef = (ref) => {
    if (refs.has(ref)) problem(`duplicate bom-ref ${ref}`);
    refs.add(ref);
  };
  addRef(doc.metadata.component['bom-ref']);
  for (const c of doc.components || []) {
    addRef(c['bom-ref']);
    if (c.purl) checkPurl(c.purl, c.name);
    for (const l of c.licenses || []) {
      if (l.expression) checkLicense(l.expression, c.name, null);
    }
  }
  for (const d of doc.dependencies || []) {
    if (!refs.has(d.ref)) problem(`dependency of unknown ${d.ref}`);
    for (const on of d.dependsOn || []) {
      if (!refs.has(on)) problem(`${d.ref} depends on unknown ${on}`);
    }
  }
  const os = (doc.components || []).filter((c) => c.type === 'operating-system');
  if (os.length !== 1) problem(`want one operating-system component, got ${os.length}`);
  return `${(doc.components || []).length} components, ${(doc.dependencies || []).length} dependency entries`;
}

function spdx() {
  const validate = spdxValidator();
  if (!validate(doc)) {
    problem(`SPDX 2.3 schema: ${JSON.stringify(validate.errors, null, 1).slice(0, 4000)}`);
  }
  const ids = new Set(['SPDXRef-DOCUMENT']);
  const addId = (id) => {
    if (ids.has(id)) problem(`duplicate SPDXID ${id}`);
    ids.add(id);
  };
  const sha1 = new Map();
  for (const f of doc.files || []) {
    addId(f.SPDXID);
    const sum = (f.checksums || []).find((c) => c.algorithm === 'SHA1');
    if (!sum) problem(`file ${f.fileName}: no SHA1 checksum`);
    else sha1.set(f.SPDXID, sum.checksumValue);
  }
  const defined = new Set();
  for (const l of doc.hasExtractedLicensingInfos || []) {
    if (defined.has(l.licenseId)) problem(`${l.licenseId} defined twice`);
    if (!/^LicenseRef-[A-Za-z0-9.-]+$/.test(l.licenseId)) problem(`bad licenseId ${l.licenseId}`);
    if (!l.extractedText) problem(`${l.licenseId}: no extractedText`);
    defined.add(l.licenseId);
  }
  const containsFiles = new Map();
  for (const r of doc.relationships || []) {
    if (r.relationshipType === 'CONTAINS' && sha1.has(r.relatedSpdxElement)) {
      containsFiles.set(r.spdxElementId, (containsFiles.get(r.spdxElementId) || 0) + 1);
    }
  }
  let purls = 0;
  let licensed = 0;
  for (const p of doc.packages || []) {
    addId(p.SPDXID);
    const analyzed = p.filesAnalyzed !== false;
    const listed = (p.hasFiles || []).length + (containsFiles.get(p.SPDXID) || 0);
    if (!analyzed && listed > 0) problem(`${p.SPDXID}: filesAnalyzed false but it has files`);
    if (analyzed) {
      const sums = (p.hasFiles || []).map((id) => sha1.get(id) || '').sort();
      const code = crypto.createHash('sha1').update(sums.join('')).digest('hex');
      const given = p.packageVerificationCode && p.packageVerificationCode.packageVerificationCodeValue;
      if (given !== code) problem(`${p.SPDXID}: verification code ${given}, files give ${code}`);
    }
    for (const ref of p.externalRefs || []) {
      if (ref.referenceType === 'purl') {
        checkPurl(ref.referenceLocator, p.name);
        purls += 1;
      }
    }
    checkLicense(p.licenseDeclared, p.name, defined);
    checkLicense(p.licenseConcluded, p.name, defined);
    if (p.SPDXID !== 'SPDXRef-Image' && p.licenseDeclared !== 'NOASSERTION') licensed += 1;
  }
  for (const r of doc.relationships || []) {
    for (const end of [r.spdxElementId, r.relatedSpdxElement]) {
      if (!ids.has(end)) problem(`relationship ${r.relationshipType} names unknown ${end}`);
    }
  }
  const depends = (doc.relationships || []).filter((r) => r.relationshipType === 'DEPENDS_ON').length;
  return `${doc.packages.length} packages (${licensed} with a license), ${purls} purls, ` +
    `${(doc.files || []).length} files, ${depends} DEPENDS_ON`;
}

(async () => {
  if (!spdxSchema || pairs.length === 0 || pairs.length % 2 !== 0) {
    console.log('usage: validate_sbom.js SPDX_SCHEMA spdx|cyclonedx FILE [spdx|cyclonedx FILE]...');
    process.exit(2);
  }
  let failed = false;
  for (let i = 0; i < pairs.length; i += 2) {
    const [format, file] = [pairs[i], pairs[i + 1]];
    problems = [];
    let summary;
    try {
      text = fs.readFileSync(file, 'utf8');
      doc = JSON.parse(text);
      if (format === 'cyclonedx') summary = await cyclonedx();
      else if (format === 'spdx') summary = spdx();
      else problem(`unknown format ${format}`);
    } catch (e) {
      problem(`validator failed: ${e.stack || e}`);
    }
    if (problems.length) {
      failed = true;
      for (const p of problems) console.log(`${file}: ${p}`);
    } else {
      console.log(`ok: ${file}: ${summary}`);
    }
  }
  process.exit(failed ? 1 : 0);
})();
