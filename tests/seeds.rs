#[allow(unused_imports)]
use {axum as _, minijinja as _, reqwest as _, rusqlite as _};
#[test]
fn stub() {}
