//! `Routes::resolve` runs once per log line, so it must not touch the heap
//! once its buffers have grown. This lives in its own test binary because
//! it replaces the global allocator to count allocations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use hotkeys_contract::Routes;

struct Counting;

thread_local! {
    // Per thread, so allocations by the test harness elsewhere don't count.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with` because the allocator can run while thread-locals are torn down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every method forwards to the system allocator unchanged, so the
// allocator's contract holds as it does for `System`; counting touches only
// a thread-local.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

const ROUTES: &str = r#"
[[route]]
name = "product"
match = '^/api/products/(?P<id>[0-9]+)(?:/(?P<part>[a-z]+))?$'
key = "product:{id}:{part}"
methods = ["GET", "HEAD"]
query = "strip"

[[route]]
name = "search"
match = '^/search'
key = "search:{path}?{query}"
query = ["q", "page", "sort"]

[[route]]
name = "static"
match = '^/static/'
"#;

#[test]
fn resolve_does_not_allocate_in_the_steady_state() {
    let routes = Routes::from_toml_str(ROUTES).unwrap();
    let targets: [(Option<&[u8]>, &[u8]); 7] = [
        (Some(b"GET"), b"/api/products/42?utm_source=mail"),
        (Some(b"HEAD"), b"/api/products/7/reviews"),
        (Some(b"POST"), b"/api/products/7"),
        (
            None,
            b"/search?sort=price&utm=x&q=red+shoes&page=3&fbclid=abc",
        ),
        (Some(b"GET"), b"/search"),
        (None, b"/static/app.css?v=12"),
        (None, b"/nothing/matches/\xff"),
    ];
    let mut scratch = routes.scratch();
    let mut key = Vec::new();
    let mut expected = Vec::new();
    for (method, target) in targets {
        expected.push(routes.resolve(method, target, &mut scratch, &mut key));
    }
    assert_eq!(
        expected,
        [Some(0), Some(0), None, Some(1), Some(1), Some(2), None]
    );

    let before = allocations();
    for _ in 0..1000 {
        for ((method, target), want) in targets.iter().zip(&expected) {
            let got = routes.resolve(*method, target, &mut scratch, &mut key);
            assert!(got == *want);
        }
    }
    let during = allocations() - before;
    assert_eq!(during, 0, "resolve allocated {during} times in 7000 calls");

    // The counter works: an allocation on this thread is seen.
    let before = allocations();
    drop(std::hint::black_box(Vec::<u8>::with_capacity(16)));
    assert_eq!(allocations() - before, 1);
}
