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

// The positions from `at` on that the vector loop left (fewer than a vector),
// one by one: memmem would first analyse the whole needle, a cost that a
// long needle pays again for every block of names searched.
static bytes find_tail(bytes s, size_t n, bytes needle, size_t k, size_t at) {
    for (; at + k <= n; at++) {
        if (s[at] == needle[0] && s[at + k - 1] == needle[k - 1] && memcmp(s + at + 1, needle + 1, k - 2) == 0)
            return s + at;
    }
    return NULL;
}

// The first position where the needle is, or NULL. Each whole comparison
// takes `k` from *budget; once it is spent, memmem finishes the search.
__attribute__((target("avx2"))) static bytes find_avx2(bytes s, size_t n, bytes needle, size_t k, size_t *budget) {
    const __m256i first = _mm256_set1_epi8((char)needle[0]), last = _mm256_set1_epi8((char)needle[k - 1]);
    size_t at = 0;
    for (; at + k - 1 + 32 <= n; at += 32) {
        __m256i starts = _mm256_loadu_si256((const __m256i *)(s + at));
        __m256i ends = _mm256_loadu_si256((const __m256i *)(s + at + k - 1));
        unsigned mask = (unsigned)_mm256_movemask_epi8(
            _mm256_and_si256(_mm256_cmpeq_epi8(first, starts), _mm256_cmpeq_epi8(last, ends)));
        while (mask) {
            size_t candidate = at + (size_t)__builtin_ctz(mask);
            if (*budget < k) return memmem(s + candidate, n - candidate, needle, k);
            *budget -= k;
            if (memcmp(s + candidate + 1, needle + 1, k - 2) == 0) return s + candidate;
            mask &= mask - 1;
        }
    }
    return find_tail(s, n, needle, k, at);
}

static bytes find_sse2(bytes s, size_t n, bytes needle, size_t k, size_t *budget) {
    const __m128i first = _mm_set1_epi8((char)needle[0]), last = _mm_set1_epi8((char)needle[k - 1]);
    size_t at = 0;
    for (; at + k - 1 + 16 <= n; at += 16) {
        __m128i starts = _mm_loadu_si128((const __m128i *)(s + at));
        __m128i ends = _mm_loadu_si128((const __m128i *)(s + at + k - 1));
        unsigned mask = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(first, starts), _mm_cmpeq_epi8(last, ends)));
        while (mask) {
            size_t candidate = at + (size_t)__builtin_ctz(mask);
            if (*budget < k) return memmem(s + candidate, n - candidate, needle, k);
            *budget -= k;
            if (memcmp(s + candidate + 1, needle + 1, k - 2) == 0) return s + candidate;
            mask &= mask - 1;
        }
    }
    return find_tail(s, n, needle, k, at);
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
    size_t budget = 2 * haystackLength + 4096;
    return known && allowAVX2 ? find_avx2(haystack, haystackLength, needle, needleLength, &budget)
                              : find_sse2(haystack, haystackLength, needle, needleLength, &budget);
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
