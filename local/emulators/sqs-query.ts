// SQS's older query protocol in front of fauxqs, which speaks only the AWS JSON 1.0 protocol (X-Amz-Target). AWS CLI
// v2 up to 2.13 (Debian ships 2.9.19) and other older SDKs send SQS calls as form-encoded `Action=SendMessage&...`
// requests and read XML answers; fauxqs routes every form-encoded POST to its SNS router ("Unknown action:
// SendMessage"). This front answers the query protocol's SQS actions by calling fauxqs over its JSON protocol and
// writing the answer as the XML of the SQS API reference; every other request passes through untouched.
//
// Node loads this file directly with its type stripping (sqs-child.mjs imports it), so it holds only erasable
// TypeScript and imports nothing but Node's own modules.
//
// Sources:
// - requests (GET query or form-encoded POST, to the endpoint or to the queue URL; flattened lists `AttributeName.1`,
//   maps `Attribute.1.Name`/`Attribute.1.Value`, batch entries `SendMessageBatchRequestEntry.1.Id`):
//   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-making-api-requests-xml.html and
//   each action's page of https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_Operations.html
// - answers (`<ActionResponse><ActionResult>...</ActionResult><ResponseMetadata><RequestId>`, errors as
//   `<ErrorResponse><Error><Type><Code><Message>`):
//   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-xml-api-responses.html
import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';

const XMLNS = 'http://queue.amazonaws.com/doc/2012-11-05/';

/** The SQS actions fauxqs implements, by their query-protocol names; the other form-encoded actions are SNS's. */
export const SQS_QUERY_ACTIONS: ReadonlySet<string> = new Set([
  'CreateQueue',
  'DeleteQueue',
  'GetQueueUrl',
  'ListQueues',
  'GetQueueAttributes',
  'SetQueueAttributes',
  'PurgeQueue',
  'SendMessage',
  'ReceiveMessage',
  'DeleteMessage',
  'SendMessageBatch',
  'DeleteMessageBatch',
  'ChangeMessageVisibility',
  'ChangeMessageVisibilityBatch',
  'TagQueue',
  'UntagQueue',
  'ListQueueTags',
]);

/** Actions whose answer has an `<ActionResult>`; the others answer with only `ResponseMetadata`. */
const HAS_RESULT = new Set([
  'CreateQueue',
  'GetQueueUrl',
  'ListQueues',
  'GetQueueAttributes',
  'SendMessage',
  'ReceiveMessage',
  'SendMessageBatch',
  'DeleteMessageBatch',
  'ChangeMessageVisibilityBatch',
  'ListQueueTags',
]);

/** Request members of integer type: the query protocol sends every value as text, JSON wants numbers. */
const INTEGERS = new Set(['DelaySeconds', 'MaxNumberOfMessages', 'VisibilityTimeout', 'WaitTimeSeconds', 'MaxResults']);

/** Flattened lists: the query name of one element, and the JSON member of the whole list. */
const LISTS: Record<string, string> = {
  AttributeName: 'AttributeNames',
  MessageAttributeName: 'MessageAttributeNames',
  MessageSystemAttributeName: 'MessageSystemAttributeNames',
  TagKey: 'TagKeys',
  StringListValue: 'StringListValues',
  BinaryListValue: 'BinaryListValues',
  SendMessageBatchRequestEntry: 'Entries',
  DeleteMessageBatchRequestEntry: 'Entries',
  ChangeMessageVisibilityBatchRequestEntry: 'Entries',
};

/** Flattened maps: the query name of one entry, the JSON member of the whole map, and the entry's key element. */
const MAPS: Record<string, [member: string, key: string]> = {
  Attribute: ['Attributes', 'Name'],
  MessageAttribute: ['MessageAttributes', 'Name'],
  MessageSystemAttribute: ['MessageSystemAttributes', 'Name'],
  Tag: ['Tags', 'Key'],
};

/** Parameters that belong to the protocol or to signing, not to the action's input. */
const NOT_INPUT =
  /^(Action|Version|AWSAccessKeyId|Signature|SignatureMethod|SignatureVersion|Timestamp|Expires|X-Amz-.*)$/;

type Tree = { [name: string]: string | Tree };

/**
 * The JSON-protocol input of a query-protocol request: `MessageAttribute.1.Value.StringValue=x` becomes
 * `{ MessageAttributes: { <name>: { StringValue: 'x' } } }`. A request sent to a queue's URL (`POST /<account>/<name>`)
 * names its queue by that path; `queueUrl` is that URL, used when the parameters give none.
 */
export function queryToJsonInput(params: URLSearchParams, queueUrl?: string): Record<string, unknown> {
  const tree: Tree = {};
  for (const [name, value] of params) {
    if (NOT_INPUT.test(name)) continue;
    const parts = name.split('.');
    let node = tree;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) node[part] = value;
      else {
        const next = node[part];
        node = typeof next === 'object' ? next : (node[part] = {});
      }
    });
  }
  const input = convertInput(tree);
  if (queueUrl && input.QueueUrl === undefined) input.QueueUrl = queueUrl;
  return input;
}

const byIndex = (node: string | Tree): Array<string | Tree> =>
  typeof node === 'string'
    ? [node]
    : Object.keys(node)
        .sort((a, b) => Number(a) - Number(b))
        .map((k) => node[k]!);

function convertInput(tree: Tree): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, node] of Object.entries(tree)) {
    const list = LISTS[name];
    const map = MAPS[name];
    if (list) out[list] = byIndex(node).map(convertValue);
    else if (map) {
      const [member, key] = map;
      const entries: Record<string, unknown> = {};
      for (const entry of byIndex(node)) {
        if (typeof entry === 'string' || typeof entry[key] !== 'string') continue;
        entries[entry[key] as string] = convertValue(entry.Value ?? '');
      }
      out[member] = entries;
    } else if (INTEGERS.has(name) && typeof node === 'string') out[name] = Number(node);
    else out[name] = convertValue(node);
  }
  return out;
}

const convertValue = (node: string | Tree): unknown => (typeof node === 'string' ? node : convertInput(node));

/** JSON lists of the answers, and the element name of each item in the XML. */
const OUT_LISTS: Record<string, string> = {
  Messages: 'Message',
  QueueUrls: 'QueueUrl',
  Failed: 'BatchResultErrorEntry',
  StringListValues: 'StringListValue',
  BinaryListValues: 'BinaryListValue',
};

/** JSON maps of the answers: the element of one entry and its key element. */
const OUT_MAPS: Record<string, [element: string, key: string]> = {
  Attributes: ['Attribute', 'Name'],
  MessageAttributes: ['MessageAttribute', 'Name'],
  Tags: ['Tag', 'Key'],
};

/** XML text, with carriage returns kept (an XML parser turns a raw CR into LF, and the CLI checks bodies' MD5s). */
const escapeXml = (s: string) =>
  s.replace(
    /[&<>"'\r]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#xD;' })[c]!,
  );

const element = (name: string, inner: string) => `<${name}>${inner}</${name}>`;

function membersXml(action: string, value: Record<string, unknown>): string {
  let xml = '';
  for (const [name, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    const map = OUT_MAPS[name];
    if (Array.isArray(v)) {
      // `Successful` of a batch answer: SendMessageBatchResultEntry, DeleteMessageBatchResultEntry, ...
      const item = name === 'Successful' ? `${action}ResultEntry` : (OUT_LISTS[name] ?? name);
      for (const one of v) xml += element(item, valueXml(action, one));
    } else if (map && typeof v === 'object') {
      const [entry, key] = map;
      for (const [k, one] of Object.entries(v as Record<string, unknown>))
        xml += element(entry, element(key, escapeXml(k)) + element('Value', valueXml(action, one)));
    } else xml += element(name, valueXml(action, v));
  }
  return xml;
}

const valueXml = (action: string, v: unknown): string =>
  typeof v === 'object' && v !== null ? membersXml(action, v as Record<string, unknown>) : escapeXml(String(v));

/** The query protocol's XML answer to `action`, from fauxqs's JSON answer. */
export function jsonOutputToXml(action: string, output: Record<string, unknown>, requestId: string): string {
  const result = HAS_RESULT.has(action) ? element(`${action}Result`, membersXml(action, output)) : '';
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${XMLNS}">${result}` +
    `${element('ResponseMetadata', element('RequestId', requestId))}</${action}Response>`
  );
}

/**
 * The query protocol's error answer. fauxqs gives the query protocol's code and fault in its `x-amzn-query-error`
 * header (`AWS.SimpleQueueService.NonExistentQueue;Sender`), as SQS itself does for JSON clients; without the
 * header the JSON error type stands in.
 */
export function errorXml(
  error: { queryError?: string; type?: string; message?: string; status: number },
  requestId: string,
): string {
  const [queryCode, fault] = error.queryError?.split(';') ?? [];
  const code = queryCode || error.type?.split('#').pop() || 'InternalFailure';
  const type = fault || (error.status >= 500 ? 'Receiver' : 'Sender');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${XMLNS}">` +
    element(
      'Error',
      element('Type', type) + element('Code', escapeXml(code)) + element('Message', escapeXml(error.message ?? '')),
    ) +
    `${element('RequestId', requestId)}</ErrorResponse>`
  );
}

const readBody = (stream: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });

/**
 * The request listener of the front: query-protocol SQS calls are answered here, through fauxqs's JSON protocol on
 * 127.0.0.1:`innerPort`; everything else (JSON-protocol SQS, SNS's query protocol, health) is passed on as it came.
 * The Host and Authorization headers go along, so queue URLs name the front and the region comes from the signature.
 */
export function sqsQueryFront(innerPort: number): (req: IncomingMessage, res: ServerResponse) => void {
  const agent = new Agent({ keepAlive: true });
  const forward = (req: IncomingMessage, res: ServerResponse, body?: Buffer) => {
    const inner = httpRequest(
      { host: '127.0.0.1', port: innerPort, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    inner.on('error', (err) => res.destroy(err));
    if (body) inner.end(body);
    else req.pipe(inner);
  };

  const answerQuery = async (req: IncomingMessage, res: ServerResponse, action: string, params: URLSearchParams) => {
    const requestId = randomUUID();
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    const queueUrl = /^\/\d+\/[^/]+\/?$/.test(url.pathname)
      ? `${url.origin}${url.pathname.replace(/\/$/, '')}`
      : undefined;
    const payload = Buffer.from(JSON.stringify(queryToJsonInput(params, queueUrl)));
    const headers: Record<string, string> = {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `AmazonSQS.${action}`,
      'content-length': String(payload.length),
    };
    if (req.headers.host) headers.host = req.headers.host;
    if (req.headers.authorization) headers.authorization = req.headers.authorization;
    const { status, text, queryError } = await new Promise<{ status: number; text: string; queryError?: string }>(
      (resolve, reject) => {
        const inner = httpRequest(
          { host: '127.0.0.1', port: innerPort, method: 'POST', path: '/', headers, agent },
          (a) =>
            readBody(a).then((b) => {
              const header = a.headers['x-amzn-query-error'];
              resolve({
                status: a.statusCode ?? 502,
                text: b.toString('utf8'),
                ...(typeof header === 'string' ? { queryError: header } : {}),
              });
            }, reject),
        );
        inner.on('error', reject);
        inner.end(payload);
      },
    );
    let json: Record<string, unknown>;
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      json = { message: text };
    }
    const xml =
      status < 300
        ? jsonOutputToXml(action, json, requestId)
        : errorXml(
            {
              status,
              message: String(json.message ?? json.Message ?? ''),
              ...(queryError ? { queryError } : {}),
              ...(typeof json.__type === 'string' ? { type: json.__type } : {}),
            },
            requestId,
          );
    res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
    res.end(xml);
  };

  return (req, res) => {
    const fail = (err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/xml' });
      res.end(errorXml({ status: 500, message: String(err) }, randomUUID()));
    };
    const search = new URL(req.url ?? '/', 'http://front').searchParams;
    const inQuery = search.get('Action');
    if (inQuery && SQS_QUERY_ACTIONS.has(inQuery)) {
      // GET (or bodiless POST) with the parameters in the URL's query string
      readBody(req)
        .then(() => answerQuery(req, res, inQuery, search))
        .catch(fail);
      return;
    }
    const type = req.headers['content-type'] ?? '';
    if (req.method !== 'POST' || !type.includes('application/x-www-form-urlencoded')) return forward(req, res);
    readBody(req)
      .then((body) => {
        const params = new URLSearchParams(body.toString('utf8'));
        const action = params.get('Action');
        if (action && SQS_QUERY_ACTIONS.has(action)) return answerQuery(req, res, action, params);
        forward(req, res, body);
      })
      .catch(fail);
  };
}
