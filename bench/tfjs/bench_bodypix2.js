#!/usr/bin/env node
// BodyPix 2.2.1 on tfjs-wasm (SIMD) in Node: times its four public calls on one RGB frame.
//
// Bench-only (see bench/test_vs_bodypix2.py and bench/README.md). Everything stays offline:
// the weights are served from a local folder mirroring storage.googleapis.com/tfjs-models/
// savedmodel/ on 127.0.0.1 (a random port), and the wasm binaries are read from node_modules.
//
//   node bench_bodypix2.js --weights DIR --rgb FILE --height H --width W
//        [--model bodypix/mobilenet/quant2/075/model-stride16.json] [--stride 16]
//        [--multiplier 0.75] [--quant-bytes 2] [--internal-resolution medium]
//        [--warmup 3] [--repeats 20] [--threads N]
//
// --rgb is a raw file of H * W * 3 bytes (uint8 RGB, row-major), the frame the Python side
// also segments. Prints one JSON object on stdout: per call the list of times (ms) and their
// median, the backend, SIMD and thread count, package versions, and what each call found
// (mask pixels, people, poses), so that a run that found nobody cannot pass unnoticed.
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');

const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-converter');
const wasm = require('@tensorflow/tfjs-backend-wasm');
const bodyPix = require('@tensorflow-models/body-pix');

function parseArgs(argv) {
  const args = {
    model: 'bodypix/mobilenet/quant2/075/model-stride16.json',
    stride: 16,
    multiplier: 0.75,
    quantBytes: 2,
    internalResolution: 'medium',
    warmup: 3,
    repeats: 20,
    threads: null,
  };
  const names = {
    '--weights': ['weights', String],
    '--rgb': ['rgb', String],
    '--height': ['height', Number],
    '--width': ['width', Number],
    '--model': ['model', String],
    '--stride': ['stride', Number],
    '--multiplier': ['multiplier', Number],
    '--quant-bytes': ['quantBytes', Number],
    '--internal-resolution': ['internalResolution', String],
    '--warmup': ['warmup', Number],
    '--repeats': ['repeats', Number],
    '--threads': ['threads', Number],
  };
  for (let i = 0; i < argv.length; i += 2) {
    const spec = names[argv[i]];
    if (spec === undefined || i + 1 >= argv.length) {
      throw new Error(`unknown or incomplete option ${argv[i]} (options: ${Object.keys(names).join(' ')})`);
    }
    args[spec[0]] = spec[1](argv[i + 1]);
  }
  for (const required of ['weights', 'rgb', 'height', 'width']) {
    if (args[required] === undefined) throw new Error(`--${required} is required`);
  }
  const resolution = Number(args.internalResolution);
  if (!Number.isNaN(resolution)) args.internalResolution = resolution;
  return args;
}

// A static file server for the weights folder, bound to 127.0.0.1 on a free port.
function serve(root) {
  const base = path.resolve(root);
  const server = http.createServer((request, response) => {
    const relative = decodeURIComponent(new URL(request.url, 'http://127.0.0.1').pathname);
    const file = path.resolve(base, '.' + relative);
    if (!file.startsWith(base + path.sep)) {
      response.writeHead(403).end();
      return;
    }
    fs.readFile(file, (error, data) => {
      if (error) {
        response.writeHead(404).end();
        return;
      }
      const type = file.endsWith('.json') ? 'application/json' : 'application/octet-stream';
      response.writeHead(200, {'Content-Type': type, 'Content-Length': data.length}).end(data);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

// BodyPix 2.2.1's part calls multiply an int32 one-hot map by int32 part ids (`tf.matMul` in
// decode_part_map.js), which tfjs-backend-wasm 4.22 refuses ("BatchMatMul for non non-float32
// tensors not yet supported", tensorflow/tfjs#3947). Without a fix the two part calls cannot run
// on wasm at all. The smallest fix, at the kernel level: run int32 BatchMatMul as float32 (casts
// in and out with the backend's own Cast kernel). The products are 0/1 times 0..23, exact in
// float32, so the results are BodyPix 2.2.1's; the casts add a little time to BodyPix's side.
function allowInt32BatchMatMul() {
  const matMul = tf.getKernel('BatchMatMul', 'wasm');
  const cast = tf.getKernel('Cast', 'wasm');
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    setupFunc: matMul.setupFunc,
    disposeFunc: matMul.disposeFunc,
    kernelFunc: ({inputs, backend, attrs}) => {
      const {a, b} = inputs;
      if (a.dtype === 'float32' && b.dtype === 'float32') return matMul.kernelFunc({inputs, backend, attrs});
      const toFloat = (x) => cast.kernelFunc({inputs: {x}, backend, attrs: {dtype: 'float32'}});
      const a32 = toFloat(a);
      const b32 = toFloat(b);
      const product = matMul.kernelFunc({inputs: {a: a32, b: b32}, backend, attrs});
      const result = cast.kernelFunc({inputs: {x: product}, backend, attrs: {dtype: 'int32'}});
      for (const info of [a32, b32, product]) backend.disposeData(info.dataId);
      return result;
    },
  });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function count(data, predicate) {
  let n = 0;
  for (let i = 0; i < data.length; i += 1) if (predicate(data[i])) n += 1;
  return n;
}

// What a call found, recorded untimed after the timed runs.
function summary(name, result) {
  if (name === 'segmentPerson') {
    return {mask_pixels: count(result.data, (v) => v === 1), poses: result.allPoses.length};
  }
  if (name === 'segmentPersonParts') {
    return {part_pixels: count(result.data, (v) => v >= 0), poses: result.allPoses.length};
  }
  if (name === 'segmentMultiPerson') {
    return {people: result.length, mask_pixels: result.map((p) => count(p.data, (v) => v === 1))};
  }
  return {people: result.length, part_pixels: result.map((p) => count(p.data, (v) => v >= 0))};
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const rgb = fs.readFileSync(args.rgb);
  if (rgb.length !== args.height * args.width * 3) {
    throw new Error(`${args.rgb} holds ${rgb.length} bytes, expected ${args.height} * ${args.width} * 3`);
  }

  // Local wasm binaries; no network. (tfjs-backend-wasm 4.22 disables its threaded build
  // under Node, tensorflow/tfjs#3830, so this is the SIMD build on one thread.)
  wasm.setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), path.sep));
  if (args.threads !== null) wasm.setThreadsCount(args.threads);
  await tf.setBackend('wasm');
  await tf.ready();
  allowInt32BatchMatMul();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const multithread = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');

  const server = await serve(args.weights);
  const modelUrl = `http://127.0.0.1:${server.address().port}/${args.model}`;
  let net;
  try {
    net = await bodyPix.load({
      architecture: 'MobileNetV1',
      outputStride: args.stride,
      multiplier: args.multiplier,
      quantBytes: args.quantBytes,
      modelUrl,
    });
  } finally {
    server.close();
  }

  const image = tf.tensor3d(Int32Array.from(rgb), [args.height, args.width, 3], 'int32');
  const config = {internalResolution: args.internalResolution};
  const calls = {
    segmentPerson: () => net.segmentPerson(image, config),
    segmentPersonParts: () => net.segmentPersonParts(image, config),
    segmentMultiPerson: () => net.segmentMultiPerson(image, config),
    segmentMultiPersonParts: () => net.segmentMultiPersonParts(image, config),
  };
  const results = {};
  for (const [name, call] of Object.entries(calls)) {
    for (let i = 0; i < args.warmup; i += 1) await call();
    const times = [];
    let last;
    for (let i = 0; i < args.repeats; i += 1) {
      const start = process.hrtime.bigint();
      last = await call();
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    results[name] = {median_ms: median(times), times_ms: times, found: summary(name, last)};
  }
  const leaked = tf.memory().numTensors;
  image.dispose();

  const version = (pkg) => require(`${pkg}/package.json`).version;
  process.stdout.write(
    JSON.stringify({
      backend: tf.getBackend(),
      simd,
      multithread_supported: multithread,
      threads: wasm.getThreadsCount(),
      node: process.version,
      versions: {
        'body-pix': version('@tensorflow-models/body-pix'),
        'tfjs-core': version('@tensorflow/tfjs-core'),
        'tfjs-converter': version('@tensorflow/tfjs-converter'),
        'tfjs-backend-wasm': version('@tensorflow/tfjs-backend-wasm'),
      },
      int32_batchmatmul_shim: true,
      model: args.model,
      image_hw: [args.height, args.width],
      internal_resolution: args.internalResolution,
      warmup: args.warmup,
      repeats: args.repeats,
      tensors_after: leaked,
      calls: results,
    }) + '\n',
  );
}

main().catch((error) => {
  process.stderr.write(`bench_bodypix2.js: ${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
