#!/usr/bin/env node
// A minimal receiver for scrape-fanout job callbacks:
//   WEBHOOK_SECRET=... PORT=9000 node examples/webhook-receiver.mjs
// then submit a job with "callbackUrl": "http://127.0.0.1:9000/hook" (local service, where
// ALLOW_PRIVATE_TARGETS is on). It answers 401 to a bad or stale signature, 200 to a repeat.
import { createServer } from 'node:http';
import { SeenDeliveries, verifyWebhook } from './webhook-verify.mjs';

const secret = process.env.WEBHOOK_SECRET ?? '';
const seen = new SeenDeliveries();
/** A job view is a few kilobytes; anything far larger is not ours. */
const MAX_BODY = 1024 * 1024;

const server = createServer(async (req, res) => {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) return res.writeHead(413).end();
    chunks.push(chunk);
  }
  const raw = Buffer.concat(chunks).toString('utf8');
  if (secret) {
    const header = String(req.headers['x-scrape-fanout-signature'] ?? '');
    const check = await verifyWebhook(secret, header, raw);
    if (!check.ok) return res.writeHead(401).end(check.reason);
  }
  const delivery = String(req.headers['x-scrape-fanout-delivery'] ?? '');
  if (!seen.firstTime(delivery)) return res.writeHead(200).end('already handled');
  const job = JSON.parse(raw);
  console.log(`${req.headers['x-scrape-fanout-event']}: ${job.id} ${job.status}`, job.counts);
  res.writeHead(200).end('ok');
});
server.listen(Number(process.env.PORT ?? 9000), '127.0.0.1');
