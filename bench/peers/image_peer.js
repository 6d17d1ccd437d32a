// The peer for image inference: Node.js + fastify + onnxruntime-node (the real ONNX
// Runtime, CPU) answering POST /v1/inference the way closedloop does for a JSON
// image: {"image": [H][W][3] 8-bit pixels} -> x / 255, (x - mean) / std per channel,
// NCHW, session.run, softmax -> {request_id, prediction, confidence, latency_ms,
// label, top_k}. One worker process per core (node:cluster), one ORT thread each.
//   MODEL=cnn.onnx PORT=8003 SIZE=224 node image_peer.js
'use strict';
const cluster = require('node:cluster');
const crypto = require('node:crypto');
const os = require('node:os');

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

if (cluster.isPrimary) {
  for (let i = 0; i < os.availableParallelism(); i++) cluster.fork();
} else {
  const ort = require('onnxruntime-node');
  const fastify = require('fastify')({ logger: false, bodyLimit: 16 * 1024 * 1024 });
  const size = Number(process.env.SIZE || 224);
  const ready = ort.InferenceSession.create(process.env.MODEL, {
    intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: ['cpu'],
  });
  fastify.post('/v1/inference', async (req, reply) => {
    const start = process.hrtime.bigint();
    const session = await ready;
    const image = req.body && req.body.image;
    if (!Array.isArray(image) || image.length !== size || image[0].length !== size) {
      return reply.code(400).send({ error: `field 'image' must be [${size}][${size}][3]` });
    }
    const plane = size * size;
    const x = new Float32Array(3 * plane);
    for (let y = 0; y < size; y++) {
      const row = image[y];
      for (let i = 0; i < size; i++) {
        const p = row[i];
        for (let c = 0; c < 3; c++) {
          const v = p[c];
          if (typeof v !== 'number' || !Number.isFinite(v)) {
            return reply.code(400).send({ error: 'pixels must be finite numbers' });
          }
          x[c * plane + y * size + i] = (v / 255 - MEAN[c]) / STD[c];
        }
      }
    }
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, [1, 3, size, size]) });
    const logits = out[session.outputNames[0]].data;
    let max = -Infinity;
    for (const v of logits) max = Math.max(max, v);
    let sum = 0;
    const p = Array.from(logits, (v) => { const e = Math.exp(v - max); sum += e; return e; });
    const order = p.map((v, i) => [v / sum, i]).sort((a, b) => b[0] - a[0]);
    const label = `c${order[0][1]}`;
    return {
      request_id: crypto.randomUUID(), model: 'cnn', version: '1', prediction: label, label,
      confidence: order[0][0],
      top_k: order.slice(0, 5).map(([q, i]) => ({ label: `c${i}`, p: q })),
      latency_ms: Number(process.hrtime.bigint() - start) / 1e6,
    };
  });
  fastify.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
}
