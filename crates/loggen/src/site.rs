//! The simulated web site: its request targets and how each one behaves.
//!
//! A key is an index `0..keys`. Everything about it (its URL, response size,
//! base latency, cacheability) is a pure function of the index and the site
//! seed, so nothing per key is stored except the popularity permutation.
//! The first [`FIXED`] indices are the pages every site has (`/`,
//! `/robots.txt`, …) plus a few vulnerability-scanner probes; the rest get a
//! shape drawn from [`SHAPES`] and a URL that embeds an injective function of
//! the index, which is what makes all targets distinct.

use crate::math::{Rng, exp, hash_normal, hash2, unit};
use crate::write::{push_hex, push_u64};

/// How requests for one kind of resource behave.
#[derive(Debug)]
pub(crate) struct Class {
    pub content_type: &'static str,
    /// Median body size in bytes; each key varies around it.
    size: f64,
    size_sigma: f64,
    /// Median origin latency (on a cache miss) in microseconds.
    latency_us: f64,
    /// Log-normal spread of latency, both across keys and across requests.
    pub latency_sigma: f64,
    /// Probability that the reverse-proxy cache answers; `None`: the cache is
    /// bypassed (private or non-idempotent responses).
    pub hit: Option<f64>,
    /// Share of GET/HEAD answered `304 Not Modified` (conditional requests).
    pub p304: f64,
    /// Share of GET/HEAD redirected (login walls, locale redirects).
    pub p302: f64,
    /// Share of GET/HEAD answered 404 although the key exists (stale links
    /// to removed variants, typos in query strings).
    pub p404: f64,
    /// Multiplier on the base 5xx rates (search backends fail more often).
    pub error_factor: f64,
    /// The endpoint is mostly POSTed to.
    pub writes: bool,
    /// Pages that may have been moved: every request gets a 301.
    can_move: bool,
    /// Resources that may have been deleted: every request gets a 404.
    can_vanish: bool,
    /// Served by the application (so some keys are slow), not from disk.
    dynamic: bool,
    /// Scanner probes: never exist.
    pub always_404: bool,
    /// Error bodies are small JSON documents rather than nginx HTML pages.
    pub json: bool,
}

const fn class(content_type: &'static str, size: f64, latency_ms: f64, hit: Option<f64>) -> Class {
    Class {
        content_type,
        size,
        size_sigma: 0.0,
        latency_us: latency_ms * 1000.0,
        latency_sigma: 0.45,
        hit,
        p304: 0.0,
        p302: 0.003,
        p404: 0.004,
        error_factor: 1.0,
        writes: false,
        can_move: false,
        can_vanish: false,
        dynamic: true,
        always_404: false,
        json: false,
    }
}

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";

static HOME: Class = Class {
    p304: 0.05,
    ..class(HTML, 64_212.0, 55.0, Some(0.7))
};
static ICON: Class = Class {
    p304: 0.3,
    p302: 0.0,
    dynamic: false,
    ..class("image/x-icon", 15_086.0, 0.4, Some(0.99))
};
static TEXT: Class = Class {
    p304: 0.2,
    p302: 0.0,
    dynamic: false,
    ..class("text/plain; charset=utf-8", 412.0, 0.3, Some(0.99))
};
static SITEMAP: Class = Class {
    p304: 0.1,
    ..class("application/xml", 184_330.0, 250.0, Some(0.95))
};
static PRIVATE_PAGE: Class = Class {
    p302: 0.05,
    ..class(HTML, 24_876.0, 60.0, None)
};
static ACCOUNT: Class = Class {
    p302: 0.6,
    ..class(HTML, 31_544.0, 80.0, None)
};
static API_PRIVATE: Class = Class {
    json: true,
    ..class(JSON, 418.0, 8.0, None)
};
static HEALTH: Class = Class {
    p302: 0.0,
    p404: 0.0,
    json: true,
    ..class(JSON, 15.0, 1.5, None)
};
static PROBE: Class = Class {
    always_404: true,
    ..class(HTML, 0.0, 1.2, Some(0.0))
};

static PRODUCT_PAGE: Class = Class {
    size_sigma: 0.3,
    p304: 0.05,
    can_move: true,
    can_vanish: true,
    ..class(HTML, 42_000.0, 45.0, Some(0.55))
};
static CATEGORY: Class = Class {
    size_sigma: 0.3,
    p304: 0.04,
    can_move: true,
    ..class(HTML, 58_000.0, 70.0, Some(0.5))
};
static BLOG: Class = Class {
    size_sigma: 0.4,
    p304: 0.06,
    can_move: true,
    latency_sigma: 0.4,
    ..class(HTML, 27_000.0, 30.0, Some(0.8))
};
static API_PRODUCT: Class = Class {
    size_sigma: 0.6,
    p304: 0.03,
    p302: 0.0,
    can_vanish: true,
    json: true,
    ..class(JSON, 2_400.0, 18.0, Some(0.35))
};
static API_REVIEWS: Class = Class {
    size_sigma: 0.5,
    p304: 0.02,
    p302: 0.0,
    json: true,
    ..class(JSON, 6_500.0, 25.0, Some(0.3))
};
static API_USER: Class = Class {
    size_sigma: 0.4,
    p302: 0.0,
    json: true,
    latency_sigma: 0.4,
    ..class(JSON, 1_100.0, 12.0, None)
};
static API_CART: Class = Class {
    size_sigma: 0.3,
    p302: 0.0,
    p404: 0.002,
    writes: true,
    json: true,
    latency_sigma: 0.4,
    ..class(JSON, 350.0, 35.0, None)
};
static SEARCH: Class = Class {
    size_sigma: 0.3,
    p302: 0.0,
    p404: 0.0,
    error_factor: 3.0,
    latency_sigma: 0.4,
    ..class(HTML, 31_000.0, 120.0, Some(0.05))
};
static SCRIPT: Class = Class {
    size_sigma: 1.0,
    p304: 0.22,
    p302: 0.0,
    p404: 0.002,
    dynamic: false,
    latency_sigma: 0.4,
    ..class("text/javascript; charset=utf-8", 95_000.0, 0.9, Some(0.97))
};
static STYLE: Class = Class {
    size_sigma: 0.6,
    p304: 0.22,
    p302: 0.0,
    p404: 0.002,
    dynamic: false,
    latency_sigma: 0.4,
    ..class("text/css; charset=utf-8", 24_000.0, 0.7, Some(0.97))
};
static IMAGE_JPG: Class = Class {
    size_sigma: 0.8,
    p304: 0.18,
    p302: 0.0,
    p404: 0.003,
    can_vanish: true,
    dynamic: false,
    latency_sigma: 0.5,
    ..class("image/jpeg", 85_000.0, 1.5, Some(0.93))
};
static IMAGE_WEBP: Class = Class {
    size_sigma: 0.5,
    p304: 0.18,
    p302: 0.0,
    p404: 0.003,
    dynamic: false,
    latency_sigma: 0.5,
    ..class("image/webp", 40_000.0, 1.2, Some(0.93))
};

/// Paths every site has, at key indices `0..FIXED.len()`.
pub(crate) static FIXED: &[(&str, &Class)] = &[
    ("/", &HOME),
    ("/favicon.ico", &ICON),
    ("/robots.txt", &TEXT),
    ("/sitemap.xml", &SITEMAP),
    ("/cart", &PRIVATE_PAGE),
    ("/login", &PRIVATE_PAGE),
    ("/account", &ACCOUNT),
    ("/checkout", &PRIVATE_PAGE),
    ("/api/session", &API_PRIVATE),
    ("/health", &HEALTH),
    ("/wp-login.php", &PROBE),
    ("/.env", &PROBE),
    ("/xmlrpc.php", &PROBE),
    ("/.git/config", &PROBE),
];

/// URL shapes of the remaining keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Fixed,
    ProductPage,
    Category,
    Blog,
    ApiProduct,
    ApiReviews,
    ApiUser,
    ApiCart,
    Search,
    Script,
    Style,
    ImageJpg,
    ImageWebp,
}

/// Shapes with their weight in thousandths of the generated keys.
const SHAPES: &[(Shape, u64, &Class)] = &[
    (Shape::ProductPage, 170, &PRODUCT_PAGE),
    (Shape::Category, 60, &CATEGORY),
    (Shape::Blog, 40, &BLOG),
    (Shape::ApiProduct, 150, &API_PRODUCT),
    (Shape::ApiReviews, 50, &API_REVIEWS),
    (Shape::ApiUser, 60, &API_USER),
    (Shape::ApiCart, 30, &API_CART),
    (Shape::Search, 80, &SEARCH),
    (Shape::Script, 40, &SCRIPT),
    (Shape::Style, 20, &STYLE),
    (Shape::ImageJpg, 150, &IMAGE_JPG),
    (Shape::ImageWebp, 150, &IMAGE_WEBP),
];

const ADJECTIVES: [&str; 64] = [
    "alpine", "amber", "arctic", "aurora", "bamboo", "basalt", "bold", "breeze", "canvas", "cedar",
    "classic", "cobalt", "copper", "coral", "cotton", "crimson", "denim", "dune", "ember",
    "falcon", "fern", "flint", "forest", "frost", "garnet", "glacier", "granite", "harbor",
    "hazel", "indigo", "ivory", "jade", "juniper", "lagoon", "lava", "linen", "lunar", "maple",
    "marble", "meadow", "merino", "mesa", "midnight", "mint", "mosaic", "nomad", "oak", "ocean",
    "olive", "onyx", "orchid", "pebble", "pine", "prairie", "quartz", "rain", "ridge", "river",
    "sage", "sierra", "slate", "summit", "terra", "velvet",
];

const NOUNS: [&str; 16] = [
    "backpack",
    "boots",
    "jacket",
    "lamp",
    "mug",
    "chair",
    "watch",
    "sneakers",
    "scarf",
    "tent",
    "bottle",
    "headphones",
    "desk",
    "blanket",
    "kettle",
    "wallet",
];

const CATEGORIES: [&str; 12] = [
    "shoes",
    "outdoor",
    "kitchen",
    "electronics",
    "furniture",
    "garden",
    "toys",
    "books",
    "sports",
    "beauty",
    "office",
    "lighting",
];

const SORTS: [&str; 4] = ["price", "newest", "rating", "popular"];
const CHUNKS: [&str; 8] = [
    "app",
    "vendor",
    "main",
    "runtime",
    "checkout",
    "product",
    "search",
    "polyfills",
];
const STYLESHEETS: [&str; 4] = ["app", "theme", "print", "checkout"];
const IMAGE_SIZES: [&str; 4] = ["200x200", "400x400", "800x800", "1200x1200"];

// Salts for the independent per-key attributes.
const SALT_SHAPE: u64 = 1;
const SALT_WORDS: u64 = 2;
const SALT_SIZE: u64 = 3;
const SALT_LATENCY: u64 = 4;
const SALT_FLAGS: u64 = 5;
const SALT_PERMUTATION: u64 = 6;
const SALT_SLOWNESS: u64 = 7;

/// Everything the generator needs to know about one key.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeyInfo {
    pub id: u64,
    shape: Shape,
    pub class: &'static Class,
    /// Body size of a `200` response.
    pub size: u64,
    /// Median origin latency in microseconds.
    pub latency_us: f64,
    /// A status every request for this key gets (moved page, deleted item,
    /// scanner probe); the generator spares its most popular ranks.
    pub forced_status: Option<u16>,
}

/// The key space of one site.
#[derive(Clone, Debug)]
pub(crate) struct Site {
    seed: u64,
    /// Popularity rank (0-based) to key index.
    by_rank: Vec<u32>,
}

impl Site {
    pub(crate) fn new(keys: u64, site_seed: u64) -> Self {
        let n = keys as usize;
        let mut by_rank: Vec<u32> = (0..keys as u32).collect();
        let mut rng = Rng::new(hash2(SALT_PERMUTATION, site_seed));
        for i in (1..n).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            by_rank.swap(i, j);
        }
        // Scanner probes are background noise: keep them out of the popular
        // half, or a small key space could rank `/.env` first.
        if n >= 4 * FIXED.len() {
            for rank in 0..n / 2 {
                // The swapped-in key may be a probe too; the tail is large
                // enough that this ends after a few rounds.
                while FIXED
                    .get(by_rank[rank] as usize)
                    .is_some_and(|f| f.1.always_404)
                {
                    let tail = n / 2 + rng.below((n - n / 2) as u64) as usize;
                    by_rank.swap(rank, tail);
                }
            }
        }
        Site {
            seed: site_seed,
            by_rank,
        }
    }

    pub(crate) fn key_of_rank(&self, rank: u64) -> u64 {
        u64::from(self.by_rank[rank as usize])
    }

    fn hash(&self, salt: u64, id: u64) -> u64 {
        hash2(self.seed.wrapping_mul(0x100).wrapping_add(salt), id)
    }

    pub(crate) fn info(&self, id: u64) -> KeyInfo {
        let (shape, class) = if (id as usize) < FIXED.len() {
            (Shape::Fixed, FIXED[id as usize].1)
        } else {
            let mut pick = self.hash(SALT_SHAPE, id) % 1000;
            let mut chosen = SHAPES[0];
            for &entry in SHAPES {
                if pick < entry.1 {
                    chosen = entry;
                    break;
                }
                pick -= entry.1;
            }
            (chosen.0, chosen.2)
        };
        let size_z = hash_normal(self.hash(SALT_SIZE, id));
        let mut size = class.size * exp(class.size_sigma * size_z);
        if shape == Shape::ImageWebp {
            // Larger renditions are larger files.
            size *= [0.3, 1.0, 2.6, 5.0][(self.hash(SALT_WORDS, id) % 4) as usize];
        }
        let lat_z = hash_normal(self.hash(SALT_LATENCY, id));
        let mut latency_us = class.latency_us * exp(class.latency_sigma * lat_z);
        let flags = unit(self.hash(SALT_FLAGS, id));
        let mut forced_status = None;
        if class.always_404 {
            forced_status = Some(404);
        } else if class.can_move && flags < 0.02 {
            forced_status = Some(301);
        } else if class.can_vanish && flags > 0.99 {
            forced_status = Some(404);
        }
        if class.dynamic && (0.05..0.09).contains(&flags) {
            // About 4% of application endpoints are slow: heavy queries,
            // cold partitions, a chatty dependency.
            latency_us *= 4.0 + 8.0 * unit(self.hash(SALT_SLOWNESS, id));
        }
        KeyInfo {
            id,
            shape,
            class,
            size: size.round() as u64,
            latency_us,
            forced_status,
        }
    }

    /// Appends the request target of a key to `out`.
    pub(crate) fn render_target(&self, key: &KeyInfo, out: &mut Vec<u8>) {
        let id = key.id;
        let h = self.hash(SALT_WORDS, id);
        let word =
            |shift: u32, list: &[&'static str]| list[((h >> shift) % list.len() as u64) as usize];
        let product_id = 10_000 + id;
        match key.shape {
            Shape::Fixed => out.extend_from_slice(FIXED[id as usize].0.as_bytes()),
            Shape::ProductPage => {
                out.extend_from_slice(b"/products/");
                out.extend_from_slice(word(8, &ADJECTIVES).as_bytes());
                out.push(b'-');
                out.extend_from_slice(word(20, &NOUNS).as_bytes());
                out.push(b'-');
                push_u64(out, product_id);
            }
            Shape::Category => {
                out.extend_from_slice(b"/category/");
                out.extend_from_slice(word(8, &CATEGORIES).as_bytes());
                out.push(b'-');
                push_u64(out, id);
                out.extend_from_slice(b"?sort=");
                out.extend_from_slice(word(20, &SORTS).as_bytes());
            }
            Shape::Blog => {
                out.extend_from_slice(b"/blog/");
                push_u64(out, 2019 + (h >> 8) % 6);
                out.push(b'/');
                let month = 1 + (h >> 16) % 12;
                if month < 10 {
                    out.push(b'0');
                }
                push_u64(out, month);
                out.push(b'/');
                out.extend_from_slice(word(24, &ADJECTIVES).as_bytes());
                out.push(b'-');
                out.extend_from_slice(word(32, &NOUNS).as_bytes());
                out.extend_from_slice(b"-guide-");
                push_u64(out, id);
            }
            Shape::ApiProduct => {
                out.extend_from_slice(b"/api/products/");
                push_u64(out, product_id);
            }
            Shape::ApiReviews => {
                out.extend_from_slice(b"/api/products/");
                push_u64(out, product_id);
                out.extend_from_slice(b"/reviews?page=");
                push_u64(out, 1 + (h >> 8) % 3);
            }
            Shape::ApiUser => {
                out.extend_from_slice(b"/api/users/");
                push_u64(out, 500_000 + id);
                out.extend_from_slice(b"/profile");
            }
            Shape::ApiCart => {
                out.extend_from_slice(b"/api/cart/");
                push_hex(out, u64::from(scramble32(id as u32)), 8);
                out.extend_from_slice(b"/items");
            }
            Shape::Search => {
                // Mixed radix over (noun, adjective, optional third word,
                // page) is injective in the key index.
                let noun = NOUNS[(id % 16) as usize];
                let adjective = ADJECTIVES[(id / 16 % 64) as usize];
                let rest = id / 1024;
                out.extend_from_slice(b"/search?q=");
                out.extend_from_slice(adjective.as_bytes());
                out.push(b'+');
                out.extend_from_slice(noun.as_bytes());
                if rest > 0 {
                    out.push(b'+');
                    out.extend_from_slice(ADJECTIVES[((rest - 1) % 64) as usize].as_bytes());
                    let page = (rest - 1) / 64 + 1;
                    if page > 1 {
                        out.extend_from_slice(b"&page=");
                        push_u64(out, page);
                    }
                }
            }
            Shape::Script => {
                out.extend_from_slice(b"/static/js/");
                out.extend_from_slice(word(8, &CHUNKS).as_bytes());
                out.push(b'.');
                push_hex(out, u64::from(scramble32(id as u32)), 8);
                out.extend_from_slice(b".js");
            }
            Shape::Style => {
                out.extend_from_slice(b"/static/css/");
                out.extend_from_slice(word(8, &STYLESHEETS).as_bytes());
                out.push(b'.');
                push_hex(out, u64::from(scramble32(id as u32)), 8);
                out.extend_from_slice(b".css");
            }
            Shape::ImageJpg => {
                out.extend_from_slice(b"/images/");
                push_u64(out, 1_000_000 + id);
                out.extend_from_slice(b".jpg");
            }
            Shape::ImageWebp => {
                out.extend_from_slice(b"/images/products/");
                push_u64(out, product_id);
                out.push(b'/');
                out.extend_from_slice(IMAGE_SIZES[(h % 4) as usize].as_bytes());
                out.extend_from_slice(b".webp");
            }
        }
    }
}

/// A bijection on `u32` (xorshift-multiply rounds), so hex "content hashes"
/// look random yet never collide.
fn scramble32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^ (x >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn target(site: &Site, id: u64) -> Vec<u8> {
        let mut out = Vec::new();
        site.render_target(&site.info(id), &mut out);
        out
    }

    #[test]
    fn targets_are_distinct_and_clean() {
        let keys = 300_000;
        let site = Site::new(keys, 1);
        let mut seen = HashSet::new();
        for id in 0..keys {
            let t = target(&site, id);
            assert!(t.starts_with(b"/"));
            assert!(
                t.iter()
                    .all(|&b| b.is_ascii_graphic() && b != b'"' && b != b'\\'),
                "{}",
                String::from_utf8_lossy(&t)
            );
            assert!(
                seen.insert(t.clone()),
                "duplicate {}",
                String::from_utf8_lossy(&t)
            );
        }
    }

    #[test]
    fn permutation_is_a_bijection_that_moves_hot_keys() {
        let site = Site::new(10_000, 3);
        let mut ids: Vec<u64> = (0..10_000).map(|r| site.key_of_rank(r)).collect();
        let first_ten: Vec<u64> = ids[..10].to_vec();
        assert_ne!(first_ten, (0..10).collect::<Vec<_>>());
        ids.sort_unstable();
        assert_eq!(ids, (0..10_000).collect::<Vec<_>>());
        // Same seed, same site; another seed, another popularity order.
        assert_eq!(Site::new(10_000, 3).key_of_rank(0), site.key_of_rank(0));
        let other = Site::new(10_000, 4);
        assert!((0..10).any(|r| other.key_of_rank(r) != site.key_of_rank(r)));
    }

    #[test]
    fn probes_stay_out_of_the_popular_half() {
        for seed in 0..20 {
            let site = Site::new(200, seed);
            for rank in 0..100 {
                let id = site.key_of_rank(rank) as usize;
                assert!(id >= FIXED.len() || !FIXED[id].1.always_404);
            }
        }
    }

    #[test]
    fn shapes_follow_their_weights() {
        let site = Site::new(1, 9);
        let n = 100_000u64;
        let base = FIXED.len() as u64;
        let images = (base..base + n)
            .filter(|&id| site.info(id).shape == Shape::ImageJpg)
            .count();
        let share = images as f64 / n as f64;
        assert!((share - 0.15).abs() < 0.01, "{share}");
        let total: u64 = SHAPES.iter().map(|s| s.1).sum();
        assert_eq!(total, 1000);
    }

    #[test]
    fn attributes_are_stable_and_plausible() {
        let site = Site::new(1, 1);
        for id in 0..5000 {
            let a = site.info(id);
            let b = site.info(id);
            assert_eq!(
                (a.size, a.latency_us.to_bits()),
                (b.size, b.latency_us.to_bits())
            );
            assert!(a.latency_us > 50.0 && a.latency_us < 20_000_000.0);
            if a.forced_status.is_none() {
                assert!(a.size > 0);
            }
        }
        assert_eq!(target(&site, 0), b"/");
        assert_eq!(site.info(11).forced_status, Some(404));
    }
}
