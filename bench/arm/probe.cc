// llvm-mca probe (npm run bench:arm): one ARM kernel set's kernels at the tile sizes the engine calls,
// each in a function of its own so that its hot loop can be found and timed alone. The set's file
// comes from the command line (-DKERNEL_FILE="..."); the probe is never linked into bitnetd.
#include KERNEL_FILE

extern "C" {
void mca_decode(const uint8_t* row, const int8_t* q, const int32_t* qsum, uint32_t k, int32_t* out) {
    i2s_dot_tile<1>(row, q, 0, qsum, k, out);
}
void mca_prefill(const uint8_t* row, const int8_t* q, size_t q_stride, const int32_t* qsum, uint32_t k, int32_t* out) {
    i2s_dot_tile<kMaxTileTokens>(row, q, q_stride, qsum, k, out);
}
void mca_head(const int8_t* w, const float* ws, const int8_t* xq, const float* xs, uint32_t k, float* out) {
    q8_dot(w, ws, xq, xs, nullptr, k, 1, out);
}
}
