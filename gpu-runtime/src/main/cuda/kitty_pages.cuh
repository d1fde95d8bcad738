// The memory contract of the Kitty page kernels (kitty_quantize.cu makes the pages,
// kitty_attention.cu reads them), mirrored by the Java classes
// of kittyspark.runtime.backend.cuda.kitty (KittyPageJobs, KittySequenceTable, KittyFpTail).
//
// Per layer, with Hkv kv heads, head dim D, page size P (128 in attention), boosted B:
//   key pool    uint8 [pages][Hkv][KeyPageLayout(P, D, B).bytes()]
//   value pool  uint8 [pages][Hkv][ValuePageLayout(P, D).bytes()]
//   fp keys     fp16  [slots][S + P][Hkv][D]   sink rows 0..S-1, then the key buffer as a ring:
//                                              token t >= S at row S + (t - S) mod P
//   fp values   fp16  [slots][S + R][Hkv][D]   sink, then the value ring of R >= W + P rows
//                                              (a multiple of P): token t >= S at S + (t - S) mod R
// so the next key page to make is always rows S .. S+P-1 of the key ring and the next value
// page a contiguous run of P rows of the value ring: both feed the quantize kernels directly.
#pragma once
#include <cuda_fp16.h>
#include <stdint.h>

namespace kitty {

constexpr int ATTN_P = 128;  // tokens per page in the attention kernels

// One page to quantize: src points at token 0, kv head 0 of P full-precision rows (element
// (t, h, d) at src + t * token_stride + h * head_stride + d); dst at the page's kv head 0
// (head h at dst + h * page_bytes).
struct PageJob {
    unsigned long long src;
    unsigned long long dst;
};

// One decoding sequence (8 int32, see KittySequenceTable). length counts the current token.
struct SeqMeta {
    int length;
    int key_pages;
    int value_pages;
    int key_table_offset;    // its key page ids: key_table[key_table_offset + i]
    int value_table_offset;  // its value page ids: value_table[value_table_offset + i]
    int fp_slot;             // its rows in fp keys / fp values
    int reserved0;
    int reserved1;
};

// A page's fp16 scale or min field (low 16 bits of h) as a float.
__device__ __forceinline__ float fp16_bits_to_float(uint32_t h) {
    return __half2float(__ushort_as_half((unsigned short) h));
}

}  // namespace kitty
