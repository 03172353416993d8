fn main() -> Result<(), shared::lambda_http::Error> {
    shared::runtime::main(shared::runtime::serve_events(sign_up_triggers::USES, |app, event| {
        sign_up_triggers::handle(app, event.payload)
    }))
}
