fn main() -> Result<(), shared::lambda_http::Error> {
    shared::runtime::main(shared::runtime::serve_events(erasure_ledger::USES, |app, event| {
        erasure_ledger::handle(app, event.payload)
    }))
}
