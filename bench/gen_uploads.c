/*
 * gen_uploads: seeded generator of realistic phone-log uploads for the
 * benchmarks.
 *
 *   gen_uploads TYPE SIZE_MB SEED [--gzip] [--rows N] [--item-base N] > FILE
 *
 * TYPE is sms_log, call_log, contact_list or app_packages. The output is one
 * JSON array of objects written compactly, as the Android app uploads it,
 * until the raw (uncompressed) JSON reaches SIZE_MB (MB = 2^20 bytes) or, with
 * --rows, exactly N entries. --gzip compresses with zlib at the default level,
 * like Java's GZIPOutputStream. The same TYPE, size, seed and options always
 * give the same bytes, so run.sh can cache inputs by name. On success the
 * last line on stderr is "rows=N bytes=B" (B = raw JSON bytes), which run.sh
 * keeps next to the file to compute rows/s and MB/s.
 *
 * The content is shaped after the Kenyan user base: Swahili and English
 * chat, M-PESA style transaction notices, promotions from short codes,
 * "+254 7xx xxx xxx" addresses, a few accented letters and emoji (some
 * written as \u escapes with surrogate pairs, as some JSON encoders do), so
 * the parser, UTF-8 lowercasing and md5 paths see what production sees.
 * This is a standalone tool: it does not link the collator library.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#define MIB 1048576.0
#define BODY_MAX 1024

/* splitmix64: tiny, fast, and good enough for synthetic data. */
typedef struct rng {
  uint64_t state;
} rng;

static uint64_t rng_next(rng *r)
{
  uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static uint64_t rng_below(rng *r, uint64_t n)
{
  return n ? rng_next(r) % n : 0;
}

/* True with probability percent/100. */
static int rng_chance(rng *r, unsigned percent)
{
  return rng_below(r, 100) < percent;
}

static const char *rng_pick(rng *r, const char *const *list, size_t count)
{
  return list[rng_below(r, count)];
}

#define PICK(r, list) rng_pick((r), (list), sizeof(list) / sizeof((list)[0]))

/* Output with optional gzip; counts raw bytes so the size target is the
 * JSON size whatever the compression. */
typedef struct sink {
  FILE *file;
  gzFile gz;
  char pending[1 << 16];
  size_t pending_len;
  uint64_t raw_bytes;
  int failed;
} sink;

static void sink_flush(sink *out)
{
  if(!out->pending_len || out->failed)
    return;
  if(out->gz) {
    if(gzwrite(out->gz, out->pending, (unsigned)out->pending_len) != (int)out->pending_len)
      out->failed = 1;
  } else if(fwrite(out->pending, 1, out->pending_len, out->file) != out->pending_len) {
    out->failed = 1;
  }
  out->pending_len = 0;
}

static void sink_put(sink *out, const char *data, size_t len)
{
  out->raw_bytes += len;
  while(len) {
    size_t room = sizeof(out->pending) - out->pending_len;
    size_t n = len < room ? len : room;
    memcpy(out->pending + out->pending_len, data, n);
    out->pending_len += n;
    data += n;
    len -= n;
    if(out->pending_len == sizeof(out->pending))
      sink_flush(out);
  }
}

static void sink_puts(sink *out, const char *s)
{
  sink_put(out, s, strlen(s));
}

static void sink_printf(sink *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sink_printf(sink *out, const char *fmt, ...)
{
  char text[256];
  va_list args;
  va_start(args, fmt);
  int n = vsnprintf(text, sizeof(text), fmt, args);
  va_end(args);
  if(n < 0 || (size_t)n >= sizeof(text)) {
    out->failed = 1;
    return;
  }
  sink_put(out, text, (size_t)n);
}

/* Decode one UTF-8 sequence (input is our own valid UTF-8). */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
  if(s[0] < 0x80) {
    *cp = s[0];
    return 1;
  }
  if((s[0] & 0xe0) == 0xc0) {
    *cp = ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
    return 2;
  }
  if((s[0] & 0xf0) == 0xe0) {
    *cp = ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
    return 3;
  }
  *cp = ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
        ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
  return 4;
}

/* A JSON string. escape_unicode writes non-ASCII as \uXXXX (surrogate pairs
 * above the BMP), the other half of what real encoders do. */
static void sink_json_string(sink *out, const char *text, int escape_unicode)
{
  const unsigned char *s = (const unsigned char *)text;
  sink_put(out, "\"", 1);
  while(*s) {
    size_t run = 0;
    while(s[run] && s[run] != '"' && s[run] != '\\' && s[run] >= 0x20 &&
          !(escape_unicode && s[run] >= 0x80))
      run++;
    sink_put(out, (const char *)s, run);
    s += run;
    if(!*s)
      break;
    if(*s == '"' || *s == '\\') {
      char escaped[2] = {'\\', (char)*s};
      sink_put(out, escaped, 2);
      s++;
    } else if(*s == '\n') {
      sink_put(out, "\\n", 2);
      s++;
    } else if(*s < 0x20) {
      sink_printf(out, "\\u%04x", *s);
      s++;
    } else {
      uint32_t cp;
      s += utf8_decode(s, &cp);
      if(cp >= 0x10000) {
        cp -= 0x10000;
        sink_printf(out, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
      } else {
        sink_printf(out, "\\u%04x", cp);
      }
    }
  }
  sink_put(out, "\"", 1);
}

static const char *const swahili_words[] = {
  "habari", "yako", "nzuri", "sana", "asante", "karibu", "rafiki", "nyumbani",
  "kesho", "leo", "jana", "pesa", "tuma", "nitakupigia", "baadaye", "sawa",
  "pole", "mama", "baba", "watoto", "shule", "kazi", "chakula", "maji",
  "mvua", "jua", "safari", "haraka", "polepole", "ndiyo", "hapana", "tafadhali",
  "mkutano", "kanisa", "sokoni", "duka", "bei", "shilingi", "mzee", "dada",
  "kaka", "nakupenda", "umefika", "salama", "niko", "njiani", "tutaonana", "wiki",
  "ijayo", "Jumamosi", "Jumapili", "asubuhi", "jioni", "usiku", "mchana", "mpendwa",
};

static const char *const english_words[] = {
  "hello", "how", "are", "you", "today", "meeting", "tomorrow", "please",
  "call", "me", "when", "free", "thanks", "money", "sent", "received",
  "the", "and", "at", "office", "home", "school", "fees", "payment",
  "confirm", "order", "delivery", "on", "the", "way", "see", "you",
  "later", "good", "morning", "evening", "night", "love", "family", "church",
  "market", "price", "bus", "late", "sorry", "ok", "sure", "weekend",
};

static const char *const accented_words[] = {
  "café", "José", "naïve", "Zoë", "résumé", "déjà", "Ångström", "São",
  "Müller", "François", "piñata", "Dvořák", "Łódź", "crème", "brûlée", "señor",
};

static const char *const emoji[] = {
  "😀", "😂", "🙏", "👍", "❤️", "🎉", "😊", "🔥", "💰", "📞", "🇰🇪", "✅", "😢", "🤝",
};

static const char *const first_names[] = {
  "John", "Mary", "Peter", "Grace", "James", "Faith", "David", "Mercy",
  "Joseph", "Esther", "Brian", "Wanjiru", "Otieno", "Achieng", "Kamau", "Njeri",
  "Mwangi", "Akinyi", "Kiprop", "Chebet", "Mutua", "Wambui", "Omondi", "Nafula",
};

static const char *const last_names[] = {
  "Kamau", "Otieno", "Wanjiku", "Mwangi", "Ochieng", "Kiptoo", "Njoroge", "Mutiso",
  "Odhiambo", "Wafula", "Chege", "Karanja", "Barasa", "Kariuki", "Onyango", "Macharia",
};

static const char *const short_codes[] = {
  "MPESA", "Safaricom", "21456", "40404", "KCB", "Equity Bank", "AIRTEL", "M-SHWARI",
  "22141", "Tala", "Branch", "KPLC", "NHIF", "Jumia", "456", "100",
};

static const char *const promo_lines[] = {
  "Jiunge na Bonga Points leo upate zawadi kemkem! Piga *126# sasa.",
  "Dear customer, your data bundle expires today. Dial *544# to renew.",
  "Pata 1GB kwa Ksh 99 tu. Offer valid till midnight. Reply STOP to opt out.",
  "Your loan limit has been increased. Apply now via the app.",
  "Karibu Jumia! Use code KARIBU for 10% off your first order.",
  "Token: 4821 0937 5512 6630 1184 Units: 34.5 Amt: 1000.00",
};

typedef struct contact {
  char address[32];
  char name[48];
  int64_t contact_id; /* 0 when not in the phone book */
  int64_t thread_id;
} contact;

#define CONTACT_COUNT 256

static void make_phone(rng *r, char *out, size_t size)
{
  unsigned a = (unsigned)rng_below(r, 100), b = (unsigned)rng_below(r, 1000);
  unsigned c = (unsigned)rng_below(r, 1000);
  unsigned style = (unsigned)rng_below(r, 100);
  if(style < 60)
    snprintf(out, size, "+254 7%02u %03u %03u", a, b, c);
  else if(style < 80)
    snprintf(out, size, "07%02u%03u%03u", a, b, c);
  else if(style < 92)
    snprintf(out, size, "+2547%02u%03u%03u", a, b, c);
  else
    snprintf(out, size, "07%02u %03u %03u", a, b, c);
}

static void make_contacts(rng *r, contact *contacts)
{
  for(size_t i = 0; i < CONTACT_COUNT; i++) {
    contact *k = &contacts[i];
    if(rng_chance(r, 12))
      snprintf(k->address, sizeof(k->address), "%s", PICK(r, short_codes));
    else
      make_phone(r, k->address, sizeof(k->address));
    snprintf(k->name, sizeof(k->name), "%s %s", PICK(r, first_names), PICK(r, last_names));
    k->contact_id = rng_chance(r, 70) ? (int64_t)(1 + rng_below(r, 5000)) : 0;
    k->thread_id = (int64_t)i + 1;
  }
}

static size_t utf8_chars(const char *s)
{
  size_t n = 0;
  for(; *s; s++)
    if(((unsigned char)*s & 0xc0) != 0x80)
      n++;
  return n;
}

/* Append word to body if it fits in BODY_MAX bytes. */
static void body_add(char *body, size_t *len, const char *word, const char *separator)
{
  size_t need = strlen(separator) + strlen(word);
  if(*len + need + 1 > BODY_MAX)
    return;
  memcpy(body + *len, separator, strlen(separator));
  *len += strlen(separator);
  memcpy(body + *len, word, strlen(word));
  *len += strlen(word);
  body[*len] = 0;
}

/* An SMS body of 20 to 300 characters, most between 40 and 160. */
static void make_body(rng *r, const contact *peer, char *body)
{
  size_t len = 0;
  body[0] = 0;
  unsigned kind = (unsigned)rng_below(r, 100);
  size_t target = 20 + (size_t)(rng_chance(r, 80) ? 20 + rng_below(r, 140) : rng_below(r, 280));
  if(kind < 30) {
    char code[11];
    for(int i = 0; i < 10; i++)
      code[i] = (char)(i == 0 ? 'Q' + rng_below(r, 4) : (rng_chance(r, 60) ? 'A' + rng_below(r, 26)
                                                                             : '0' + rng_below(r, 10)));
    code[10] = 0;
    char line[320];
    snprintf(line, sizeof(line),
             "%s Confirmed. Ksh%" PRIu64 ",%03" PRIu64 ".00 sent to %s %s on %" PRIu64 "/%" PRIu64
             "/25 at %" PRIu64 ":%02" PRIu64 " PM. New M-PESA balance is Ksh%" PRIu64 ".%02" PRIu64
             ". Transaction cost, Ksh%" PRIu64 ".00.",
             code, rng_below(r, 50), rng_below(r, 1000), peer->name, peer->address,
             1 + rng_below(r, 28), 1 + rng_below(r, 12), 1 + rng_below(r, 12), rng_below(r, 60),
             rng_below(r, 90000), rng_below(r, 100), rng_below(r, 110));
    body_add(body, &len, line, "");
  } else if(kind < 42) {
    body_add(body, &len, PICK(r, promo_lines), "");
  } else {
    int swahili = rng_chance(r, 55);
    int first = 1;
    while(utf8_chars(body) < target && len < BODY_MAX - 64) {
      unsigned what = (unsigned)rng_below(r, 100);
      const char *word;
      if(what < 4)
        word = PICK(r, emoji);
      else if(what < 7)
        word = PICK(r, accented_words);
      else if(what < 85)
        word = swahili ? PICK(r, swahili_words) : PICK(r, english_words);
      else
        word = swahili ? PICK(r, english_words) : PICK(r, swahili_words);
      body_add(body, &len, word, first ? "" : (rng_chance(r, 6) ? ", " : " "));
      first = 0;
    }
    if(len && body[0] >= 'a' && body[0] <= 'z')
      body[0] = (char)(body[0] - 'a' + 'A');
    if(rng_chance(r, 5))
      body_add(body, &len, "\n", "");
    if(rng_chance(r, 3))
      body_add(body, &len, "\"quoted\"", " ");
    body_add(body, &len, rng_chance(r, 50) ? "." : (rng_chance(r, 50) ? "?" : "!"), "");
  }
  /* Trim whole words past 300 characters. */
  while(utf8_chars(body) > 300) {
    char *space = strrchr(body, ' ');
    if(!space)
      break;
    *space = 0;
  }
}

#define YEAR_2025_MS 1735689600000LL /* 2025-01-01T00:00:00Z */
#define YEAR_MS (365LL * 86400 * 1000)

/* Milliseconds since the epoch, moving forward through 2025 (and round
 * again: a large upload has more messages than a phone gets in a year, the
 * item ids keep them apart) so that they sort like a phone's history;
 * about one in twenty on a whole second, which Python's str(datetime)
 * prints without a fraction, and one in a thousand from a phone whose
 * clock runs years ahead (the sms future-timestamp rule, legacy §3.5). */
static int64_t next_datetime(rng *r, int64_t *clock_ms)
{
  *clock_ms += (int64_t)(1000 + rng_below(r, 2 * 3600 * 1000));
  if(*clock_ms >= YEAR_2025_MS + YEAR_MS)
    *clock_ms -= YEAR_MS;
  if(rng_chance(r, 5))
    *clock_ms -= *clock_ms % 1000;
  if(rng_below(r, 1000) == 0)
    return *clock_ms + 3 * YEAR_MS;
  return *clock_ms;
}

static void emit_sms(rng *r, sink *out, const contact *contacts, int64_t item_id, int64_t *clock_ms)
{
  char body[BODY_MAX];
  const contact *peer = &contacts[rng_below(r, CONTACT_COUNT)];
  make_body(r, peer, body);
  int sms_type = rng_chance(r, 70) ? 1 : 2;
  sink_printf(out, "{\"contact_id\":%" PRId64 ",\"datetime\":%" PRId64 ",\"item_id\":%" PRId64
                   ",\"message_body\":",
              peer->contact_id, next_datetime(r, clock_ms), item_id);
  sink_json_string(out, body, rng_chance(r, 10));
  sink_puts(out, ",\"sms_address\":");
  sink_json_string(out, peer->address, 0);
  sink_printf(out, ",\"sms_type\":%d,\"thread_id\":%" PRId64 "}", sms_type, peer->thread_id);
}

static void emit_call(rng *r, sink *out, const contact *contacts, int64_t item_id, int64_t *clock_ms)
{
  const contact *peer = &contacts[rng_below(r, CONTACT_COUNT)];
  static const unsigned type_weights[] = {40, 30, 20, 1, 6, 2, 1}; /* types 1..7 */
  unsigned pick = (unsigned)rng_below(r, 100), call_type = 1;
  for(unsigned i = 0, sum = 0; i < 7; i++) {
    sum += type_weights[i];
    if(pick < sum) {
      call_type = i + 1;
      break;
    }
  }
  int answered = call_type == 1 || call_type == 2 || call_type == 7;
  sink_puts(out, "{\"cached_name\":");
  if(peer->contact_id)
    sink_json_string(out, peer->name, 0);
  else
    sink_puts(out, "null");
  sink_printf(out,
              ",\"call_type\":%u,\"datetime\":%" PRId64 ",\"duration\":%" PRIu64 ",\"item_id\":%" PRId64
              ",\"phone_number\":",
              call_type, next_datetime(r, clock_ms), answered ? rng_below(r, 900) : 0, item_id);
  sink_json_string(out, peer->address, 0);
  sink_puts(out, "}");
}

static void emit_contact(rng *r, sink *out, int64_t item_id, int64_t *clock_ms)
{
  char name[96];
  snprintf(name, sizeof(name), "%s %s", PICK(r, first_names), PICK(r, last_names));
  if(rng_chance(r, 4)) {
    size_t len = strlen(name);
    snprintf(name + len, sizeof(name) - len, " %s", rng_chance(r, 50) ? PICK(r, emoji) : PICK(r, accented_words));
  }
  sink_puts(out, "{\"display_name\":");
  sink_json_string(out, name, rng_chance(r, 10));
  sink_printf(out, ",\"item_id\":%" PRId64 ",\"last_time_contacted\":%" PRId64 ",\"phone_numbers\":[",
              item_id, rng_chance(r, 40) ? 0 : next_datetime(r, clock_ms));
  unsigned numbers = 1 + (unsigned)(rng_chance(r, 25) ? rng_below(r, 3) : 0);
  for(unsigned i = 0; i < numbers; i++) {
    char phone[32];
    make_phone(r, phone, sizeof(phone));
    char normalized[32];
    size_t n = 0;
    normalized[n++] = '+';
    normalized[n++] = '2';
    normalized[n++] = '5';
    normalized[n++] = '4';
    /* the subscriber digits: the last nine digits of the number */
    char digits[32];
    size_t d = 0;
    for(const char *p = phone; *p; p++)
      if(*p >= '0' && *p <= '9')
        digits[d++] = *p;
    for(size_t k = d > 9 ? d - 9 : 0; k < d && n < sizeof(normalized) - 1; k++)
      normalized[n++] = digits[k];
    normalized[n] = 0;
    sink_printf(out, "%s{\"item_id\":%" PRId64 ",\"normalized_phone_number\":\"%s\",\"phone_number\":",
                i ? "," : "", item_id * 4 + i, normalized);
    sink_json_string(out, phone, 0);
    sink_printf(out, ",\"type\":%u}", 1 + (unsigned)rng_below(r, 3));
  }
  sink_puts(out, "],\"photo_id\":");
  if(rng_chance(r, 30))
    sink_printf(out, "\"%" PRIu64 "\"", 1000 + rng_below(r, 90000));
  else
    sink_puts(out, "null");
  sink_printf(out, ",\"times_contacted\":%" PRIu64 "}", rng_chance(r, 50) ? 0 : rng_below(r, 200));
}

static void emit_app(rng *r, sink *out, int64_t item_id)
{
  static const char *const vendors[] = {
    "com.safaricom", "com.google.android", "com.whatsapp", "com.facebook", "ke.co.equitybank",
    "com.kcb", "com.tala", "com.branch", "com.jumia", "com.opera", "org.telegram", "com.samsung.android",
  };
  static const char *const products[] = {
    "mpesa", "mysafaricom", "gm", "apps.maps", "youtube", "katana", "orca", "mobile",
    "app", "loans", "browser", "messenger", "calendar", "wallet", "lite", "chrome",
  };
  sink_printf(out, "{\"package_name\":\"%s.%s%" PRId64 "\"}", PICK(r, vendors), PICK(r, products),
              item_id);
}

static int parse_u64(const char *text, uint64_t *value)
{
  char *end;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if(errno || end == text || *end || text[0] == '-')
    return 0;
  *value = v;
  return 1;
}

static int usage(void)
{
  fprintf(stderr,
          "usage: gen_uploads TYPE SIZE_MB SEED [--gzip] [--rows N] [--item-base N] > FILE\n"
          "  TYPE: sms_log | call_log | contact_list | app_packages\n"
          "  SIZE_MB: raw JSON size in MiB (ignored with --rows)\n");
  return 2;
}

int main(int argc, char **argv)
{
  if(argc < 4)
    return usage();
  const char *type = argv[1];
  uint64_t size_mb, seed, rows = 0, item_base = 1000;
  int gzip = 0, have_rows = 0;
  if(!parse_u64(argv[2], &size_mb) || !parse_u64(argv[3], &seed))
    return usage();
  for(int i = 4; i < argc; i++) {
    if(!strcmp(argv[i], "--gzip")) {
      gzip = 1;
    } else if(!strcmp(argv[i], "--rows") && i + 1 < argc && parse_u64(argv[i + 1], &rows)) {
      have_rows = 1;
      i++;
    } else if(!strcmp(argv[i], "--item-base") && i + 1 < argc && parse_u64(argv[i + 1], &item_base)) {
      i++;
    } else {
      return usage();
    }
  }
  int kind;
  if(!strcmp(type, "sms_log"))
    kind = 0;
  else if(!strcmp(type, "call_log"))
    kind = 1;
  else if(!strcmp(type, "contact_list"))
    kind = 2;
  else if(!strcmp(type, "app_packages"))
    kind = 3;
  else
    return usage();
  if(!have_rows && (size_mb == 0 || size_mb > 65536))
    return usage();

  static sink out;
  out.file = stdout;
  if(gzip) {
    int fd = dup(STDOUT_FILENO);
    out.gz = fd < 0 ? NULL : gzdopen(fd, "wb");
    if(!out.gz) {
      fprintf(stderr, "gen_uploads: cannot open gzip output on stdout\n");
      return 1;
    }
  }

  rng r = {seed * 0x2545f4914f6cdd1dULL + 1};
  static contact contacts[CONTACT_COUNT];
  make_contacts(&r, contacts);
  /* 2025-01-01T00:00:00Z plus up to a month, per seed. */
  int64_t clock_ms = YEAR_2025_MS + (int64_t)rng_below(&r, 30LL * 86400 * 1000);
  uint64_t target = (uint64_t)((double)size_mb * MIB);
  uint64_t count = 0;

  sink_puts(&out, "[");
  while(!out.failed && (have_rows ? count < rows : out.raw_bytes < target)) {
    if(count)
      sink_puts(&out, ",");
    int64_t item_id = (int64_t)(item_base + count);
    switch(kind) {
    case 0: emit_sms(&r, &out, contacts, item_id, &clock_ms); break;
    case 1: emit_call(&r, &out, contacts, item_id, &clock_ms); break;
    case 2: emit_contact(&r, &out, item_id, &clock_ms); break;
    default: emit_app(&r, &out, item_id); break;
    }
    count++;
  }
  sink_puts(&out, "]");
  sink_flush(&out);
  int failed = out.failed;
  if(out.gz) {
    if(gzclose(out.gz) != Z_OK)
      failed = 1;
  } else if(fflush(stdout)) {
    failed = 1;
  }
  if(failed) {
    fprintf(stderr, "gen_uploads: writing %s output failed: %s\n", type, strerror(errno));
    return 1;
  }
  fprintf(stderr, "rows=%" PRIu64 " bytes=%" PRIu64 "\n", count, out.raw_bytes);
  return 0;
}
