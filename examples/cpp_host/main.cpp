// person_segmentation_host: a minimal C++ host of the person-segmentation core.
//
// Reads the network's logits from a file, post-processes them for an image of the given size
// and writes the person mask or the body-part map as a binary PGM. Formats: see README.md.
//
//   person_segmentation_host LOGITS IMAGE_HEIGHT IMAGE_WIDTH OUT [--parts] [--threshold T]
//                            [--flip] [--cuda]
//   person_segmentation_host --info
//
// Exit codes: 0 success, 1 bad usage, 2 bad input or failed post-processing / I/O.
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "person_segmentation/person_segmentation.hpp"

namespace ps = person_segmentation;

namespace {

constexpr char kMagic[4] = {'P', 'S', 'L', 'G'};
constexpr int32_t kMaxSide = ps::kMaxImageSide;  // logit grid and image sides
constexpr int32_t kMaxChannels = 256;            // 1 segment channel + at most 255 parts (PGM maxval)

/// A usage error: printed with the usage text, exit code 1.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char* const kUsage =
    "usage: person_segmentation_host LOGITS IMAGE_HEIGHT IMAGE_WIDTH OUT [--parts] [--threshold T] "
    "[--flip] [--cuda]\n"
    "       person_segmentation_host --info\n"
    "  LOGITS        'PSLG' file: int32 height, width, channels, then float32 (h, w, channels)\n"
    "                logits; channel 0 = segment, channels 1.. = parts (little-endian)\n"
    "  IMAGE_HEIGHT, IMAGE_WIDTH  size of the original image (the output size)\n"
    "  OUT           binary PGM (P5): mask 0/255, or with --parts the part id 0..23 and 255 for\n"
    "                background\n"
    "  --parts       write the part map instead of the person mask\n"
    "  --threshold T a pixel is a person where its score is > T (default 0.5)\n"
    "  --flip        mirror the result horizontally (the image was mirrored before the network)\n"
    "  --cuda        run the CUDA kernels (needs a CUDA-enabled core and a GPU)\n"
    "  --info        print what the core was built with and exit\n";

struct Args {
  std::string logits_path;
  int32_t image_height = 0;
  int32_t image_width = 0;
  std::string out_path;
  bool parts = false;
  float threshold = 0.5f;
  bool flip = false;
  bool cuda = false;
};

int32_t parse_size(const std::string& text, const char* name) {
  errno = 0;
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || value < 1 || value > kMaxSide)
    throw UsageError(std::string(name) + " must be an integer in 1.." + std::to_string(kMaxSide) + ", got '" + text +
                     "'");
  return static_cast<int32_t>(value);
}

float parse_threshold(const std::string& text) {
  errno = 0;
  char* end = nullptr;
  const float value = std::strtof(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno != 0 || !(value >= 0.0f && value <= 1.0f))
    throw UsageError("--threshold must be a number in [0, 1], got '" + text + "'");
  return value;
}

Args parse_args(int argc, char** argv) {
  Args args;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--parts") {
      args.parts = true;
    } else if (a == "--flip") {
      args.flip = true;
    } else if (a == "--cuda") {
      args.cuda = true;
    } else if (a == "--threshold") {
      if (i + 1 >= argc) throw UsageError("--threshold needs a value");
      args.threshold = parse_threshold(argv[++i]);
    } else if (a.rfind("--threshold=", 0) == 0) {
      args.threshold = parse_threshold(a.substr(std::strlen("--threshold=")));
    } else if (a.size() > 1 && a[0] == '-') {
      throw UsageError("unknown option '" + a + "'");
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 4)
    throw UsageError("expected 4 positional arguments, got " + std::to_string(positional.size()));
  args.logits_path = positional[0];
  args.image_height = parse_size(positional[1], "IMAGE_HEIGHT");
  args.image_width = parse_size(positional[2], "IMAGE_WIDTH");
  args.out_path = positional[3];
  return args;
}

bool little_endian() {
  const uint32_t one = 1;
  unsigned char first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

/// (h, w, channels) float32 logits, C-contiguous, as stored in the file.
struct Logits {
  int32_t height = 0;
  int32_t width = 0;
  int32_t channels = 0;
  std::vector<float> values;
};

Logits read_logits(const std::string& path) {
  if (!little_endian()) throw std::runtime_error("this program supports little-endian hosts only");
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::invalid_argument("cannot open logits file '" + path + "'");
  const std::streamoff file_size = in.tellg();
  in.seekg(0);
  char magic[4];
  int32_t header[3];
  in.read(magic, sizeof magic);
  in.read(reinterpret_cast<char*>(header), sizeof header);
  if (!in) throw std::invalid_argument(path + ": truncated header (need 16 bytes: 'PSLG' + 3 int32)");
  if (std::memcmp(magic, kMagic, sizeof magic) != 0)
    throw std::invalid_argument(path + ": not a logits file (magic is not 'PSLG')");
  Logits l;
  l.height = header[0];
  l.width = header[1];
  l.channels = header[2];
  if (l.height < 1 || l.width < 1 || l.height > kMaxSide || l.width > kMaxSide || l.channels < 1 ||
      l.channels > kMaxChannels)
    throw std::invalid_argument(path + ": bad shape (" + std::to_string(l.height) + ", " + std::to_string(l.width) +
                                ", " + std::to_string(l.channels) +
                                "): need 1 <= height, width <= 65536 and 1 <= channels <= 256");
  const size_t count = static_cast<size_t>(l.height) * static_cast<size_t>(l.width) * static_cast<size_t>(l.channels);
  // Check the size before allocating: a bad header must not make us allocate gigabytes.
  const long double expected = 16.0L + static_cast<long double>(count) * sizeof(float);
  if (static_cast<long double>(file_size) != expected)
    throw std::invalid_argument(
        path + ": " + (static_cast<long double>(file_size) < expected ? "truncated" : "too long") + ": a (" +
        std::to_string(l.height) + ", " + std::to_string(l.width) + ", " + std::to_string(l.channels) +
        ") logits file has " + std::to_string(16 + count * sizeof(float)) + " bytes, this one " +
        std::to_string(file_size));
  l.values.resize(count);
  in.read(reinterpret_cast<char*>(l.values.data()), static_cast<std::streamsize>(count * sizeof(float)));
  if (!in) throw std::runtime_error(path + ": read error");
  return l;
}

/// Binary PGM, maxval 255, rows top to bottom.
void write_pgm(const std::string& path, int32_t height, int32_t width, const std::vector<uint8_t>& pixels) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot open '" + path + "' for writing");
  out << "P5\n" << width << " " << height << "\n255\n";
  out.write(reinterpret_cast<const char*>(pixels.data()), static_cast<std::streamsize>(pixels.size()));
  out.close();
  if (!out) throw std::runtime_error("failed writing '" + path + "'");
}

int run(const Args& args) {
  const Logits logits = read_logits(args.logits_path);
  if (args.parts && logits.channels < 2)
    throw std::invalid_argument("--parts needs logits with a segment channel and part channels, got " +
                                std::to_string(logits.channels) + " channel(s)");

  const ps::ResizePadGeometry geometry = ps::compute_geometry(args.image_height, args.image_width);

  // Views into the one interleaved buffer: same row/column strides, channel 0 vs 1...
  const int64_t c = logits.channels;
  const int64_t row = static_cast<int64_t>(logits.width) * c;
  ps::FloatTensorView segment{logits.values.data(), logits.height, logits.width, 1, row, c, 1, ps::Device::kCpu, 0};

  ps::PostprocessOptions options;
  options.segmentation_threshold = args.threshold;
  options.flip_horizontal = args.flip;
  options.compute_device = args.cuda ? ps::Device::kCuda : ps::Device::kCpu;

  const size_t pixels = static_cast<size_t>(args.image_height) * static_cast<size_t>(args.image_width);
  std::vector<uint8_t> image(pixels);
  if (args.parts) {
    ps::FloatTensorView parts{
        logits.values.data() + 1, logits.height, logits.width, c - 1, row, c, 1, ps::Device::kCpu, 0};
    std::vector<int32_t> part_map(pixels);
    ps::part_segmentation(segment, parts, geometry, options, part_map.data());
    for (size_t i = 0; i < pixels; ++i) image[i] = part_map[i] < 0 ? uint8_t{255} : static_cast<uint8_t>(part_map[i]);
  } else {
    std::vector<uint8_t> mask(pixels);
    ps::person_mask(segment, geometry, options, mask.data());
    for (size_t i = 0; i < pixels; ++i) image[i] = mask[i] ? uint8_t{255} : uint8_t{0};
  }
  write_pgm(args.out_path, args.image_height, args.image_width, image);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--info") {
    std::cout << ps::build_summary() << "\n"
              << "cuda_compiled " << (ps::cuda_compiled() ? 1 : 0) << "\n"
              << "cuda_devices " << ps::cuda_device_count() << "\n";
    return 0;
  }
  if (argc == 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    std::cout << kUsage;
    return 0;
  }
  Args args;
  try {
    args = parse_args(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "person_segmentation_host: " << e.what() << "\n" << kUsage;
    return 1;
  }
  try {
    return run(args);
  } catch (const std::invalid_argument& e) {
    std::cerr << "person_segmentation_host: invalid input: " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "person_segmentation_host: error: " << e.what() << "\n";
  }
  return 2;
}
