// Drives closedloop's tracking server with the npm `mlflow` package (the Node.js
// MLflow client), the way a user's training script would, and prints one JSON
// line with what it read back. Usage: node mlflow_client.js http://127.0.0.1:PORT
'use strict';
const MLflow = require('mlflow');

async function main() {
  const mlflow = new MLflow({ endpoint: process.argv[2] });
  const name = `client-test-${Date.now()}`;
  const { experiment_id } = await mlflow.Experiments.create({ name });
  const { run } = await mlflow.Runs.create({
    experiment_id, user_id: 'node', start_time: Date.now(), tags: [{ key: 'source', value: 'npm' }],
  });
  const run_id = run.info.run_id;
  await mlflow.Runs.logParameter({ run_id, key: 'lr', value: '0.5' });
  for (let step = 0; step < 3; step++) {
    await mlflow.Runs.logMetric({ run_id, key: 'acc', value: 0.8 + step * 0.05, timestamp: Date.now(), step });
  }
  await mlflow.Runs.logBatch({
    run_id,
    metrics: [{ key: 'loss', value: 0.25, timestamp: Date.now(), step: 0 }],
    params: [{ key: 'epochs', value: '5' }],
    tags: [{ key: 'stage', value: 'trained' }],
  });
  await mlflow.Runs.setTag({ run_id, key: 'stage', value: 'evaluated' });
  await mlflow.Runs.update({ run_id, status: 'FINISHED', end_time: Date.now() });
  // Artifacts the way MLflow's own clients store them with a tracking server that
  // proxies artifacts: PUT under the run's mlflow-artifacts:/ URI, then list them.
  const artifactUri = run.info.artifact_uri;
  const rel = artifactUri.replace(/^mlflow-artifacts:\/*/, '');
  const base = `${process.argv[2]}/api/2.0/mlflow-artifacts/artifacts/${rel}`;
  const weights = Buffer.from([0, 1, 2, 255, 10, 13]);
  for (const [path, body] of [['model/weights.bin', weights], ['model/MLmodel', 'flavors: {}\n']]) {
    const put = await fetch(`${base}/${path}`, { method: 'PUT', body });
    if (!put.ok) throw new Error(`PUT ${path}: ${put.status} ${await put.text()}`);
  }
  const listed = await mlflow.Artifacts.list({ run_id, path: 'model' });
  const listedRoot = await mlflow.Artifacts.list({ run_id });
  const downloaded = Buffer.from(await (await fetch(`${base}/model/weights.bin`)).arrayBuffer());
  const got = await mlflow.Runs.get({ run_id });
  const history = await mlflow.Metrics.getHistory({ run_id, metric_key: 'acc' });
  const experiment = await mlflow.Experiments.get({ experiment_id });
  let duplicate = null;
  try {
    await mlflow.Experiments.create({ name });
  } catch (e) {
    duplicate = String(e.message || e);
  }
  process.stdout.write(JSON.stringify({
    experiment_id, experiment: experiment.experiment, run: got.run, history: history.metrics, duplicate,
    artifact_uri: artifactUri, listed, listed_root: listedRoot,
    download_matches: downloaded.equals(weights),
  }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`client failed: ${(e && e.stack) || e}\n`);
  process.exit(1);
});
