// The SNS topic API (POST / with a form body) through the forwarder.
import { call } from './s3.js';
import { kids, kid, txt, root } from './ui.js';

// sns posts one Action with its parameters and returns the XML root.
export async function sns(action, params = {}) {
  const form = new URLSearchParams({ Action: action, ...params });
  const res = await call('POST', undefined, undefined, {
    body: form.toString(), headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  return root(res);
}

// listTopics reads every page of ListTopics.
export async function listTopics() {
  const out = [];
  let token = '';
  for (let page = 0; page < 100; page += 1) {
    const r = await sns('ListTopics', token ? { NextToken: token } : {});
    const result = kid(r, 'ListTopicsResult');
    for (const m of kids(kid(result, 'Topics'), 'member')) {
      const ep = kid(m, 'EndPoint');
      out.push({
        name: txt(m, 'Name'), arn: txt(m, 'TopicArn'), owner: txt(m, 'User'), opaque: txt(m, 'OpaqueData'),
        endpoint: txt(ep, 'EndpointAddress'), args: txt(ep, 'EndpointArgs'),
        persistent: txt(ep, 'Persistent') === 'true', policy: txt(m, 'Policy'),
      });
    }
    token = txt(result, 'NextToken') || txt(r, 'NextToken');
    if (!token) break;
  }
  return out;
}

// createTopic creates or replaces a topic; attrs become
// Attributes.entry.N.key/value pairs.
export async function createTopic(name, attrs) {
  const params = { Name: name };
  Object.entries(attrs).filter(([, v]) => v !== '' && v !== undefined).forEach(([k, v], i) => {
    params[`Attributes.entry.${i + 1}.key`] = k;
    params[`Attributes.entry.${i + 1}.value`] = String(v);
  });
  return txt(kid(await sns('CreateTopic', params), 'CreateTopicResult'), 'TopicArn');
}

export function deleteTopic(arn) { return sns('DeleteTopic', { TopicArn: arn }); }
