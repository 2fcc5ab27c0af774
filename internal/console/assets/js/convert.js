// JSON (as the AWS CLI writes bucket configurations) to S3's XML, for the
// CORS and lifecycle editors. Arrays become repeated elements named by the
// singular of their key.
import { xmlEscape } from './ui.js';

const singular = {
  Rules: 'Rule', CORSRules: 'CORSRule', AllowedMethods: 'AllowedMethod', AllowedOrigins: 'AllowedOrigin',
  AllowedHeaders: 'AllowedHeader', ExposeHeaders: 'ExposeHeader', Transitions: 'Transition',
  NoncurrentVersionTransitions: 'NoncurrentVersionTransition', Tags: 'Tag',
};

function element(name, value) {
  if (Array.isArray(value)) return value.map((v) => element(singular[name] || name, v)).join('');
  if (value !== null && typeof value === 'object') {
    return `<${name}>${Object.entries(value).map(([k, v]) => element(k, v)).join('')}</${name}>`;
  }
  return `<${name}>${xmlEscape(value)}</${name}>`;
}

// jsonToXML converts text (JSON) into the document rootName; it throws a
// SyntaxError with the parser's message on bad JSON.
export function jsonToXML(text, rootName) {
  const v = JSON.parse(text);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new SyntaxError('expected a JSON object');
  return `<${rootName} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${Object.entries(v).map(([k, x]) => element(k, x)).join('')}</${rootName}>`;
}

// checkXML parses text as XML and throws with the parser's message.
export function checkXML(text) {
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  const err = doc.getElementsByTagName('parsererror')[0];
  if (err) throw new SyntaxError(err.textContent.split('\n').filter(Boolean).slice(0, 2).join(' '));
  return doc;
}
