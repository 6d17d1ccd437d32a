// The peer for ONNX serving: Node.js + fastify + onnxruntime-node (the real ONNX
// Runtime, CPU), serving the same model file over the same Open Inference Protocol
// JSON as closedloop, one worker process per core (node:cluster), one ORT thread each.
//   MODEL=path/to/model.onnx PORT=8002 [BODY_LIMIT=bytes] node onnx_peer.js
'use strict';
const cluster = require('node:cluster');
const os = require('node:os');

if (cluster.isPrimary) {
  for (let i = 0; i < os.availableParallelism(); i++) cluster.fork();
} else {
  const ort = require('onnxruntime-node');
  const fastify = require('fastify')({
    logger: false, bodyLimit: Number(process.env.BODY_LIMIT || 1048576),
  });
  const ready = ort.InferenceSession.create(process.env.MODEL, {
    intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: ['cpu'],
  });
  fastify.post('/v2/models/:model/infer', async (req, reply) => {
    const session = await ready;
    const input = req.body && req.body.inputs && req.body.inputs[0];
    if (!input || input.datatype !== 'FP32') {
      return reply.code(400).send({ error: 'expected one FP32 input' });
    }
    const flat = Float32Array.from(input.data.flat(Infinity));
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', flat, input.shape) };
    const results = await session.run(feeds);
    const outputs = session.outputNames.map((name) => ({
      name, datatype: 'FP32', shape: results[name].dims, data: Array.from(results[name].data),
    }));
    return { model_name: req.params.model, model_version: '1', id: req.body.id || '', outputs };
  });
  fastify.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
}
