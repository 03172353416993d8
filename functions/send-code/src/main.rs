fn main() -> Result<(), shared::lambda_http::Error> {
    shared::runtime::main(shared::runtime::serve_http(send_code::USES, send_code::handle))
}
