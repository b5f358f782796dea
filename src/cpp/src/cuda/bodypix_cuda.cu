// CUDA kernels of the BodyPix 2 post-processing (bodypix_cuda.hpp; bodypix_cuda_stub.cpp is the
// interface without CUDA), on the per-pixel functions of pixel/bodypix_pixel.hpp that the CPU
// loops use, compiled without FMA contraction (--fmad=false), so the results equal the CPU
// reference bit for bit:
//   scale-back: (1) the input-resolution scores (align-corners lerp of the logits, float32
//   sigmoid), segment and, when asked, the 24 parts, into a scratch buffer at the network's
//   input resolution (never at image resolution); (2) one thread per image pixel: the
//   crop-and-resize lerp, the threshold, the part argmax, the person score;
//   instances: one thread per image pixel of the mask: five long-offset embeddings and the
//   nearest person.
// One call on the caller's stream (or the default one), every device buffer allocated before
// the first launch, the stream synchronised before returning or throwing (so no kernel still
// reads the producer's buffer afterwards); results copied to host memory.
#include <cuda_runtime.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda/bodypix_cuda.hpp"
#include "cuda/cuda_common.cuh"
#include "pixel/bodypix_pixel.hpp"

namespace person_segmentation::bodypix::cuda {
namespace {

using bodypix_pixel::AxisSample;
using bodypix_pixel::CropSample;
using bodypix_pixel::Tensor3;
using bodypix_pixel::tensor_of;
using cuda_common::check;
using cuda_common::DeviceScope;
using cuda_common::StreamSync;

/// Device memory (cudaMalloc; cudaFree on scope exit, which waits for the work using it).
class Buffer {
 public:
  explicit Buffer(size_t bytes) {
    if (bytes == 0) return;
    check(cudaMalloc(&ptr_, bytes), "cudaMalloc (BodyPix post-processing buffer)");
  }
  ~Buffer() {
    if (ptr_) cudaFree(ptr_);
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  template <typename T>
  T* get() const {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_ = nullptr;
};

/// Heads from a producer that named no stream: wait until they are written.
void wait_for_producer(cudaStream_t stream, bool ready) {
  if (stream == nullptr && !ready) check(cudaDeviceSynchronize(), "waiting for the heads' producer");
}

struct ScoreGrid {
  int32_t input_height, input_width;
  bool parts;
};

__global__ void input_scores_kernel(Tensor3 heads, const AxisSample* rows, const AxisSample* columns, ScoreGrid g,
                                    float* segment, float* parts) {
  const int64_t cell = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (cell >= static_cast<int64_t>(g.input_height) * g.input_width) return;
  const AxisSample r = rows[cell / g.input_width];
  const AxisSample c = columns[cell % g.input_width];
  segment[cell] = bodypix_pixel::input_score(heads, kSegmentChannel, r, c);
  if (g.parts)
    for (int32_t k = 0; k < kNumParts; ++k)
      parts[cell * kNumParts + k] = bodypix_pixel::input_score(heads, kPartChannel + k, r, c);
}

__global__ void scale_back_kernel(const float* segment, const float* parts, const CropSample* crop_rows,
                                  const CropSample* crop_columns, int32_t image_height, int32_t image_width,
                                  int32_t input_width, float threshold, uint8_t* mask, int32_t* part_ids,
                                  float* probability) {
  const int32_t x = static_cast<int32_t>(blockIdx.x * blockDim.x + threadIdx.x);
  const int32_t y = static_cast<int32_t>(blockIdx.y * blockDim.y + threadIdx.y);
  if (x >= image_width || y >= image_height) return;
  const CropSample cr = crop_rows[y];
  const CropSample cc = crop_columns[x];
  const int64_t out = static_cast<int64_t>(y) * image_width + x;
  float v;
  const bool sampled = cr.kind == bodypix_pixel::kCropSample && cc.kind == bodypix_pixel::kCropSample;
  const int64_t tl = static_cast<int64_t>(cr.lower) * input_width + cc.lower;
  const int64_t tr = static_cast<int64_t>(cr.lower) * input_width + cc.upper;
  const int64_t bl = static_cast<int64_t>(cr.upper) * input_width + cc.lower;
  const int64_t br = static_cast<int64_t>(cr.upper) * input_width + cc.upper;
  if (sampled)
    v = bodypix_pixel::crop_value(segment[tl], segment[tr], segment[bl], segment[br], cr, cc);
  else
    v = bodypix_pixel::crop_value(0.0f, 0.0f, 0.0f, 0.0f, cr, cc);
  const bool person = bodypix_pixel::is_person(v, threshold);
  mask[out] = person ? 1 : 0;
  if (probability) probability[out] = v;
  if (!part_ids) return;
  if (!person) {
    part_ids[out] = -1;
    return;
  }
  float values[kNumParts];
  for (int32_t k = 0; k < kNumParts; ++k)
    values[k] = bodypix_pixel::crop_value(parts[tl * kNumParts + k], parts[tr * kNumParts + k],
                                          parts[bl * kNumParts + k], parts[br * kNumParts + k], cr, cc);
  part_ids[out] = bodypix_pixel::argmax_tfjs(values, kNumParts);
}

__global__ void instances_kernel(Tensor3 heads, bodypix_pixel::InstanceParams p, const uint8_t* mask,
                                 const double* people, int64_t num_people, int32_t image_height, int32_t image_width,
                                 int32_t* out) {
  const int32_t j = static_cast<int32_t>(blockIdx.x * blockDim.x + threadIdx.x);
  const int32_t i = static_cast<int32_t>(blockIdx.y * blockDim.y + threadIdx.y);
  if (j >= image_width || i >= image_height) return;
  const int64_t n = static_cast<int64_t>(i) * image_width + j;
  if (num_people == 0 || mask[n] != 1) {
    out[n] = -1;
    return;
  }
  double ey[kInstanceKeypoints], ex[kInstanceKeypoints];
  const bodypix_pixel::HeadsLongOffsets offsets{heads, kLongOffsetChannel, p.grid_width};
  bodypix_pixel::embeddings<1, kInstanceKeypoints>(offsets, p, &i, &j, ey, ex);
  out[n] = bodypix_pixel::nearest_person(ey, ex, kInstanceKeypoints, people, num_people);
}

__global__ void gather_kernel(Tensor3 t, int64_t height, int64_t width, int64_t channels, float* out) {
  const int64_t e = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (e >= height * width * channels) return;
  const int64_t c = e % channels;
  const int64_t x = (e / channels) % width;
  const int64_t y = e / (channels * width);
  out[e] = t.at(y, x, c);
}

template <typename T>
void upload(T* dst, const std::vector<T>& src, cudaStream_t stream) {
  if (src.empty()) return;
  check(cudaMemcpyAsync(dst, src.data(), src.size() * sizeof(T), cudaMemcpyHostToDevice, stream),
        "uploading a table (cudaMemcpyAsync)");
}

unsigned blocks(int64_t n, int64_t per) { return static_cast<unsigned>((n + per - 1) / per); }

}  // namespace

void scale_back(const FloatTensorView& heads, const ScaleBackPlan& plan, float threshold, int32_t device,
                void* stream_ptr, bool heads_ready_on_stream, uint8_t* mask, int32_t* parts, float* probability) {
  DeviceScope scope(device);
  const cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
  wait_for_producer(stream, heads_ready_on_stream);
  const int64_t cells = static_cast<int64_t>(plan.input_height) * plan.input_width;
  const int64_t pixels = static_cast<int64_t>(plan.image_height) * plan.image_width;
  const bool want_parts = parts != nullptr;
  StreamSync sync(stream);  // declared first: runs after the buffers' frees
  Buffer rows(plan.input_rows.size() * sizeof(AxisSample));
  Buffer columns(plan.input_columns.size() * sizeof(AxisSample));
  Buffer crop_rows(plan.crop_rows.size() * sizeof(CropSample));
  Buffer crop_columns(plan.crop_columns.size() * sizeof(CropSample));
  Buffer segment(static_cast<size_t>(cells) * sizeof(float));
  Buffer part_scores(want_parts ? static_cast<size_t>(cells) * kNumParts * sizeof(float) : 0);
  Buffer mask_out(static_cast<size_t>(pixels));
  Buffer parts_out(want_parts ? static_cast<size_t>(pixels) * sizeof(int32_t) : 0);
  Buffer prob_out(probability ? static_cast<size_t>(pixels) * sizeof(float) : 0);
  upload(rows.get<AxisSample>(), plan.input_rows, stream);
  upload(columns.get<AxisSample>(), plan.input_columns, stream);
  upload(crop_rows.get<CropSample>(), plan.crop_rows, stream);
  upload(crop_columns.get<CropSample>(), plan.crop_columns, stream);
  const ScoreGrid grid{plan.input_height, plan.input_width, want_parts};
  input_scores_kernel<<<blocks(cells, 128), 128, 0, stream>>>(tensor_of(heads), rows.get<AxisSample>(),
                                                              columns.get<AxisSample>(), grid, segment.get<float>(),
                                                              part_scores.get<float>());
  check(cudaGetLastError(), "launching input_scores_kernel");
  const dim3 block(32, 8);
  const dim3 g2(blocks(plan.image_width, 32), blocks(plan.image_height, 8));
  scale_back_kernel<<<g2, block, 0, stream>>>(segment.get<float>(), part_scores.get<float>(),
                                              crop_rows.get<CropSample>(), crop_columns.get<CropSample>(),
                                              plan.image_height, plan.image_width, plan.input_width, threshold,
                                              mask_out.get<uint8_t>(), parts_out.get<int32_t>(), prob_out.get<float>());
  check(cudaGetLastError(), "launching scale_back_kernel");
  check(cudaMemcpyAsync(mask, mask_out.get<uint8_t>(), static_cast<size_t>(pixels), cudaMemcpyDeviceToHost, stream),
        "copying the mask to the host");
  if (want_parts)
    check(cudaMemcpyAsync(parts, parts_out.get<int32_t>(), static_cast<size_t>(pixels) * sizeof(int32_t),
                          cudaMemcpyDeviceToHost, stream),
          "copying the part map to the host");
  if (probability)
    check(cudaMemcpyAsync(probability, prob_out.get<float>(), static_cast<size_t>(pixels) * sizeof(float),
                          cudaMemcpyDeviceToHost, stream),
          "copying the person score to the host");
  check(cudaStreamSynchronize(stream), "running the BodyPix scale-back kernels");
}

void decode_instances(const FloatTensorView& heads, const MaskView& mask, const double* keypoints, int64_t num_people,
                      const bodypix_pixel::InstanceParams& params, int32_t image_height, int32_t image_width,
                      int32_t device, void* stream_ptr, bool heads_ready_on_stream, int32_t* out) {
  DeviceScope scope(device);
  const cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
  wait_for_producer(stream, heads_ready_on_stream);
  const int64_t pixels = static_cast<int64_t>(image_height) * image_width;
  // The mask, compacted on the host (it is a host array), and the people.
  std::vector<uint8_t> compact(static_cast<size_t>(pixels));
  for (int64_t i = 0; i < image_height; ++i)
    for (int64_t j = 0; j < image_width; ++j)
      compact[static_cast<size_t>(i * image_width + j)] = mask.data[i * mask.stride_height + j * mask.stride_width];
  std::vector<double> people(keypoints, keypoints + num_people * kNumKeypoints * 3);
  StreamSync sync(stream);
  Buffer mask_in(static_cast<size_t>(pixels));
  Buffer people_in(people.size() * sizeof(double));
  Buffer result(static_cast<size_t>(pixels) * sizeof(int32_t));
  upload(mask_in.get<uint8_t>(), compact, stream);
  upload(people_in.get<double>(), people, stream);
  const dim3 block(32, 8);
  const dim3 grid(blocks(image_width, 32), blocks(image_height, 8));
  instances_kernel<<<grid, block, 0, stream>>>(tensor_of(heads), params, mask_in.get<uint8_t>(),
                                               people_in.get<double>(), num_people, image_height, image_width,
                                               result.get<int32_t>());
  check(cudaGetLastError(), "launching instances_kernel");
  check(cudaMemcpyAsync(out, result.get<int32_t>(), static_cast<size_t>(pixels) * sizeof(int32_t),
                        cudaMemcpyDeviceToHost, stream),
        "copying the instance map to the host");
  check(cudaStreamSynchronize(stream), "running the BodyPix instance kernel");
}

void download(const FloatTensorView& heads, int32_t device, void* stream_ptr, bool heads_ready_on_stream, float* host) {
  DeviceScope scope(device);
  const cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
  wait_for_producer(stream, heads_ready_on_stream);
  const int64_t n = heads.height * heads.width * heads.channels;
  StreamSync sync(stream);
  Buffer compact(static_cast<size_t>(n) * sizeof(float));
  gather_kernel<<<blocks(n, 256), 256, 0, stream>>>(tensor_of(heads), heads.height, heads.width, heads.channels,
                                                    compact.get<float>());
  check(cudaGetLastError(), "launching gather_kernel");
  check(cudaMemcpyAsync(host, compact.get<float>(), static_cast<size_t>(n) * sizeof(float), cudaMemcpyDeviceToHost,
                        stream),
        "copying the heads to the host");
  check(cudaStreamSynchronize(stream), "downloading the heads");
}

}  // namespace person_segmentation::bodypix::cuda
