/*
 * segment.h - the backup segment codec (segment.c): one encode/decode
 * pair for a segment object, its name, and a walk over its records.
 *
 * A segment is a 76-byte header and an LZ4 frame (so
 * `tail -c +77 seg | lz4 -d` shows its payload). The header, integers
 * little-endian:
 *    0  "PITRSEG1"
 *    8  u64 seq          1, 2, 3 ... with no gap
 *   16  u64 first_ts     u32 first_idx at 24
 *   28  u64 last_ts      u32 last_idx at 36
 *   40  u32 count        records in the payload
 *   44  u32 raw_len      payload bytes
 *   48  u32 packed_len   bytes of the LZ4 frame after the header
 *   52  u64 prev_sum     header_sum of segment seq - 1 (0 for the first)
 *   60  u64 payload_sum  XXH3-64 of the LZ4 frame
 *   68  u64 header_sum   XXH3-64 of bytes 0..67
 * The payload is, per record: u64 ts, u32 idx, u32 len, and the log record
 * exactly as the store keeps it (see internal.h; it ends with its own
 * XXH3-64). A segment never splits a commit.
 *
 * Its name, "seg-SEQ-FIRST-LAST.pseg" (SEQ 10 digits, FIRST and LAST the
 * first and last instants in ns, 19 digits), sorts in commit order and
 * tells the time range without reading the object. Older media named
 * segments "seg-SEQ.pseg"; those are read as well.
 *
 * A base (media_base.c) is the same codec: "base-FIRST-PART.pbase" (FIRST
 * the segment it stands before, 10 digits; PART 1, 2 ... 6 digits), with
 * seq the part's number and prev_sum the header_sum of the part before
 * it; its records are a subset of the log up to the segment before FIRST,
 * in key order.
 */
#ifndef PITR_SEGMENT_H
#define PITR_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

#define SEG_HDR	     76
#define SEG_RAW_MAX  (4u << 20)	 /* payload bytes before a segment is cut */
#define SEG_OBJ_MAX  (SEG_HDR + (64u << 20)) /* largest object read back */
#define SEG_NAME_MAX 64

struct seg_hdr {
	uint64_t seq, first_ts, last_ts, prev_sum, payload_sum, header_sum;
	uint32_t first_idx, last_idx, count, raw_len, packed_len;
};

/* A segment's name as listed: its number and, when the name tells it
 * (have_range), its first and last instants. */
struct seg_ref {
	uint64_t seq, first_ts, last_ts;
	int have_range;
	char name[SEG_NAME_MAX];
};

/* The name of the segment `h` describes. */
void seg_name(char name[SEG_NAME_MAX], const struct seg_hdr *h);

/* Parse a listed name: 0, or -1 when it is not a segment's. */
int seg_name_parse(const char *name, struct seg_ref *ref);

/* A base part's name, and parsing one back: 0, or -1 when it is not. */
void base_name(char name[SEG_NAME_MAX], uint64_t first, uint64_t part);
int base_name_parse(const char *name, uint64_t *first, uint64_t *part);

/* A payload being built: records appended in key order; h's count and
 * ranges follow them (seq and prev_sum are the caller's). */
struct seg_payload {
	unsigned char *p;
	size_t len, cap;
	struct seg_hdr h;
};

/* Append one record: 0 or ENOMEM. */
int seg_payload_add(struct seg_payload *pl, uint64_t ts, uint32_t idx,
		    const MDB_val *rec);

/* Encode a whole segment for payload `raw` (h->seq, h->prev_sum, the
 * ranges and count set by the caller): `*obj` (malloc'd) receives header
 * and frame. 0, ENOMEM or EIO. */
int seg_pack(struct seg_hdr *h, const unsigned char *raw, size_t len,
	     unsigned char **obj, size_t *objlen);

/* Decode the header at the start of an object of `len` bytes. 0 or
 * PITR_CORRUPT. */
int seg_hdr_decode(const unsigned char *p, size_t len, struct seg_hdr *h);

/* Decode and check a whole segment object: header, payload checksum,
 * decompression. `*raw` (malloc'd) receives the payload; `*why` says what
 * is wrong on PITR_CORRUPT. */
int seg_unpack(const unsigned char *obj, size_t len, struct seg_hdr *h,
	       unsigned char **raw, const char **why);

/* Walk a payload's records, checking each one's own checksum and the
 * header's count and ranges; fn (may be NULL) is called on each. */
typedef int (*seg_record_fn)(uint64_t ts, uint32_t idx, const MDB_val *rec,
			     const struct log_rec *r, void *arg);
int seg_walk(const unsigned char *raw, const struct seg_hdr *h,
	     seg_record_fn fn, void *arg);

#endif
