// BodyPix 2 CUDA kernels vs the CPU loops, bit for bit, on a machine with a CUDA device (exit
// code 77, which CTest reports as skipped, where there is none): scale-back (mask, parts, person
// score) and instance assignment on device-resident heads, contiguous and strided, including the
// last-row-zero and NaN-box geometries and NaN logits; the pose decoder on device heads (read
// through a download) equals the host decoder. compute-sanitizer can run this binary.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "check.hpp"
#include "cuda_check.hpp"
#include "person_segmentation/person_segmentation.hpp"

namespace ps = person_segmentation;
namespace bp = person_segmentation::bodypix;

namespace {

using ps_test::check;
using ps_test::cuda_ok;
using ps_test::DeviceCopy;

bool same_floats(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

struct Case {
  int h, w, ih, iw, top, bottom, left, right, stride;
};

void run_case(const Case& c, std::mt19937& rng, bool strided) {
  bp::Geometry g{c.h, c.w, c.ih, c.iw, c.top, c.bottom, c.left, c.right};
  const int gh = (c.ih - 1) / c.stride + 1, gw = (c.iw - 1) / c.stride + 1;
  const int C = bp::kHeadsChannels;
  const int step = strided ? 2 : 1;
  std::normal_distribution<float> logit(0.5f, 3.0f), offset(0.0f, 10.0f);
  std::vector<float> host(static_cast<size_t>(gh) * gw * C);
  for (size_t i = 0; i < host.size(); ++i) host[i] = (i % C) < 42 ? logit(rng) : offset(rng);
  host[7] = std::nanf("");
  std::vector<float> wide(host.size() * step, 0.0f);
  for (size_t i = 0; i < host.size(); ++i) wide[i * step] = host[i];
  DeviceCopy device(wide);
  ps::FloatTensorView cpu = ps::FloatTensorView::contiguous(host.data(), gh, gw, C);
  ps::FloatTensorView gpu = ps::FloatTensorView::contiguous(static_cast<const float*>(device.ptr), gh, gw, C);
  gpu.stride_height *= step;
  gpu.stride_width *= step;
  gpu.stride_channels *= step;
  gpu.device = ps::Device::kCuda;
  const std::string name = std::to_string(c.h) + "x" + std::to_string(c.w) + (strided ? " strided" : "");

  const size_t n = static_cast<size_t>(c.h) * c.w;
  std::vector<uint8_t> m1(n), m2(n);
  std::vector<int32_t> p1(n), p2(n);
  std::vector<float> q1(n), q2(n);
  bp::ScaleBackOptions o;
  o.threshold = 0.6;
  bp::scale_back(cpu, g, o, m1.data(), p1.data(), q1.data());
  bp::scale_back(gpu, g, o, m2.data(), p2.data(), q2.data());
  check(m1 == m2, name + ": scale_back mask");
  check(p1 == p2, name + ": scale_back parts");
  check(same_floats(q1, q2), name + ": scale_back probability");
  std::vector<uint8_t> m3(n);
  bp::scale_back(gpu, g, o, m3.data(), nullptr, nullptr);
  check(m3 == m1, name + ": scale_back mask only");

  bp::PoseOptions po;
  po.output_stride = c.stride;
  po.score_threshold = 0.3;
  const bp::Poses a = bp::decode_poses(cpu, g, po);
  const bp::Poses b = bp::decode_poses(gpu, g, po);
  bool same_poses = a.scores.size() == b.scores.size() && a.keypoints.size() == b.keypoints.size();
  for (size_t i = 0; same_poses && i < a.keypoints.size(); ++i)
    same_poses = a.keypoints[i] == b.keypoints[i] || (std::isnan(a.keypoints[i]) && std::isnan(b.keypoints[i]));
  check(same_poses, name + ": decode_poses on device heads");

  std::uniform_real_distribution<double> pos(0.0, 1.2 * std::max(c.h, c.w)), unit(0.0, 1.0);
  std::vector<double> people(3 * 51);
  for (size_t i = 0; i < people.size(); ++i) people[i] = (i % 3 == 2) ? unit(rng) : pos(rng);
  std::vector<uint8_t> mask(n);
  for (size_t i = 0; i < n; ++i) mask[i] = unit(rng) < 0.6 ? 1 : 0;
  bp::MaskView mv{mask.data(), c.h, c.w, c.w, 1};
  for (const int steps : {1, 10}) {
    std::vector<int32_t> i1(n), i2(n);
    bp::decode_instances(cpu, mv, people.data(), 3, g, c.stride, steps, 0, i1.data());
    bp::decode_instances(gpu, mv, people.data(), 3, g, c.stride, steps, 0, i2.data());
    check(i1 == i2, name + ": decode_instances, refine_steps " + std::to_string(steps));
  }
}

}  // namespace

int main() {
  if (!ps::cuda_compiled() || ps::cuda_device_count() == 0) {
    std::printf("no usable CUDA device: skipped\n");
    return 77;
  }
  std::mt19937 rng(7);
  const Case cases[] = {
      {480, 640, 241, 321, 0, 0, 0, 0, 16},   {375, 500, 177, 241, 0, 0, 5, 5, 16}, {375, 500, 185, 249, 0, 0, 2, 2, 8},
      {160, 30, 121, 17, 0, 0, 0, 0, 8},      {1, 40, 17, 33, 0, 0, 0, 0, 16},      {1, 1, 1, 1, 0, 0, 0, 0, 16},
      {1080, 1920, 273, 481, 0, 0, 4, 4, 16},
  };
  for (const Case& c : cases)
    for (const bool strided : {false, true}) run_case(c, rng, strided);
  return ps_test::report();
}
