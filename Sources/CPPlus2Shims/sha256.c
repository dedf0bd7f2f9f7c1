// SHA-256 block function with the x86 SHA extensions (SHA-NI), and the CPUID
// check that says whether this CPU has them. Pure computation: no system
// call. The portable Swift block function (SHA256.portable) is the fallback
// and the reference it is tested against.
#include "CPPlus2Shims.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

static const unsigned int K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

int cpplus2_sha256_hardware_available(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    int ssse3 = (ecx >> 9) & 1, sse41 = (ecx >> 19) & 1;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    int sha = (ebx >> 29) & 1;
    return ssse3 && sse41 && sha;
}

__attribute__((target("sha,sse4.1,ssse3")))
void cpplus2_sha256_blocks_hardware(unsigned int state[8], const void *data, unsigned long blocks) {
    const __m128i byteSwap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    const unsigned char *input = data;

    // The instructions keep the state as ABEF and CDGH.
    __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&state[0]), 0xB1);
    __m128i state1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&state[4]), 0x1B);
    __m128i state0 = _mm_alignr_epi8(tmp, state1, 8);
    state1 = _mm_blend_epi16(state1, tmp, 0xF0);

    while (blocks--) {
        __m128i savedABEF = state0, savedCDGH = state1;
        // The message schedule runs ahead of the rounds, as in Intel's
        // reference: while the rounds of group g run, W[g+1] is finished and
        // W[g+3] started, so no round waits for its words.
        __m128i w[4];
        for (int group = 0; group < 4; group++) {
            w[group] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(input + 16 * group)), byteSwap);
        }
#pragma clang loop unroll(full)
        for (int group = 0; group < 16; group++) {
            __m128i message = _mm_add_epi32(w[group & 3], _mm_loadu_si128((const __m128i *)&K[4 * group]));
            state1 = _mm_sha256rnds2_epu32(state1, state0, message);
            if (group >= 3 && group < 15) {  // W[g+1] = msg2(msg1(W[g-3], W[g-2]) + W[g-3..g] >> 1 word, W[g])
                __m128i next = _mm_add_epi32(w[(group + 1) & 3], _mm_alignr_epi8(w[group & 3], w[(group + 3) & 3], 4));
                w[(group + 1) & 3] = _mm_sha256msg2_epu32(next, w[group & 3]);
            }
            state0 = _mm_sha256rnds2_epu32(state0, state1, _mm_shuffle_epi32(message, 0x0E));
            if (group >= 1 && group < 13) {  // W[g+3] starts as msg1(W[g-1], W[g])
                w[(group + 3) & 3] = _mm_sha256msg1_epu32(w[(group + 3) & 3], w[group & 3]);
            }
        }
        state0 = _mm_add_epi32(state0, savedABEF);
        state1 = _mm_add_epi32(state1, savedCDGH);
        input += 64;
    }

    tmp = _mm_shuffle_epi32(state0, 0x1B);
    state1 = _mm_shuffle_epi32(state1, 0xB1);
    state0 = _mm_blend_epi16(tmp, state1, 0xF0);
    state1 = _mm_alignr_epi8(state1, tmp, 8);
    _mm_storeu_si128((__m128i *)&state[0], state0);
    _mm_storeu_si128((__m128i *)&state[4], state1);
}

#else

int cpplus2_sha256_hardware_available(void) { return 0; }

void cpplus2_sha256_blocks_hardware(unsigned int state[8], const void *data, unsigned long blocks) {
    (void)state;
    (void)data;
    (void)blocks;
}

#endif
