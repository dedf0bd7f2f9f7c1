// Substring search for the folder index. Every position is tested for the
// needle's first and last bytes 32 (AVX2) or 16 (SSE2) positions at a time,
// and only positions where both match are compared whole (Wojciech Muła's
// "SIMD-friendly algorithms for substring searching"). On file names this is
// 3 to 8 times glibc's memmem, whose two-way algorithm suits long needles.
// Candidates could be many (a needle of one repeated byte in names of it),
// so the whole comparisons have a budget of about twice the haystack; past
// it the search goes on with memmem, linear in the worst case: a query never
// costs more than a few passes over the index, whatever it holds.
#define _GNU_SOURCE
#include "CPPlus2Shims.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

typedef const unsigned char *bytes;

// AVX2, and the operating system saving the YMM registers (XCR0 bits 1, 2).
static int avx2_available(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !((ecx >> 27) & 1)) return 0;  // OSXSAVE
    unsigned int xcr0_low, xcr0_high;
    __asm__("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    if ((xcr0_low & 6) != 6) return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    return (ebx >> 5) & 1;
}

// One search: the haystack, the needle, and what whole comparisons may still cost.
struct search {
    bytes s;
    size_t n;
    bytes needle;
    size_t k;
    size_t budget;
};

// The candidates of one vector: bit i of `mask` is position at + i, whose
// first and last bytes match. Returns 1 when the search is over there (*found:
// the match, or memmem's answer once the budget is spent), 0 to go on.
static inline int check(struct search *q, size_t at, unsigned mask, bytes *found) {
    for (; mask; mask &= mask - 1) {
        size_t candidate = at + (size_t)__builtin_ctz(mask);
        if (q->budget < q->k) {
            *found = memmem(q->s + candidate, q->n - candidate, q->needle, q->k);
            return 1;
        }
        q->budget -= q->k;
        if (memcmp(q->s + candidate + 1, q->needle + 1, q->k - 2) == 0) {
            *found = q->s + candidate;
            return 1;
        }
    }
    return 0;
}

// The positions from `at` on that the vector loop left (fewer than a vector),
// one by one: memmem would first analyse the whole needle, a cost that a
// long needle pays again for every block of names searched.
static bytes find_tail(const struct search *q, size_t at) {
    for (; at + q->k <= q->n; at++) {
        if (q->s[at] == q->needle[0] && q->s[at + q->k - 1] == q->needle[q->k - 1]
            && memcmp(q->s + at + 1, q->needle + 1, q->k - 2) == 0)
            return q->s + at;
    }
    return NULL;
}

__attribute__((target("avx2"))) static bytes find_avx2(struct search *q) {
    const __m256i first = _mm256_set1_epi8((char)q->needle[0]), last = _mm256_set1_epi8((char)q->needle[q->k - 1]);
    size_t at = 0;
    bytes found;
    for (; at + q->k - 1 + 32 <= q->n; at += 32) {
        __m256i starts = _mm256_loadu_si256((const __m256i *)(q->s + at));
        __m256i ends = _mm256_loadu_si256((const __m256i *)(q->s + at + q->k - 1));
        unsigned mask = (unsigned)_mm256_movemask_epi8(
            _mm256_and_si256(_mm256_cmpeq_epi8(first, starts), _mm256_cmpeq_epi8(last, ends)));
        if (mask && check(q, at, mask, &found)) return found;
    }
    return find_tail(q, at);
}

static bytes find_sse2(struct search *q) {
    const __m128i first = _mm_set1_epi8((char)q->needle[0]), last = _mm_set1_epi8((char)q->needle[q->k - 1]);
    size_t at = 0;
    bytes found;
    for (; at + q->k - 1 + 16 <= q->n; at += 16) {
        __m128i starts = _mm_loadu_si128((const __m128i *)(q->s + at));
        __m128i ends = _mm_loadu_si128((const __m128i *)(q->s + at + q->k - 1));
        unsigned mask = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(first, starts), _mm_cmpeq_epi8(last, ends)));
        if (mask && check(q, at, mask, &found)) return found;
    }
    return find_tail(q, at);
}
#endif

static const void *find(const void *haystack, unsigned long haystackLength, const void *needle,
                        unsigned long needleLength, int allowAVX2) {
    if (needleLength == 0) return haystack;
    if (needleLength > haystackLength) return NULL;
    if (needleLength == 1) return memchr(haystack, *(const unsigned char *)needle, haystackLength);
#if defined(__x86_64__)
    static int avx2 = -1;  // computed once; threads that race store the same value
    int known = __atomic_load_n(&avx2, __ATOMIC_RELAXED);
    if (known < 0) {
        known = avx2_available();
        __atomic_store_n(&avx2, known, __ATOMIC_RELAXED);
    }
    struct search q = {haystack, haystackLength, needle, needleLength, 2 * haystackLength + 4096};
    return known && allowAVX2 ? find_avx2(&q) : find_sse2(&q);
#else
    (void)allowAVX2;
    return memmem(haystack, haystackLength, needle, needleLength);
#endif
}

const void *cpplus2_find(const void *haystack, unsigned long haystackLength, const void *needle,
                         unsigned long needleLength) {
    return find(haystack, haystackLength, needle, needleLength, 1);
}

const void *cpplus2_find_without_avx2(const void *haystack, unsigned long haystackLength, const void *needle,
                                      unsigned long needleLength) {
    return find(haystack, haystackLength, needle, needleLength, 0);
}
