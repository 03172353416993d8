fn main() -> Result<(), shared::lambda_http::Error> {
    shared::runtime::main(shared::runtime::serve_http(export_data::USES, export_data::handle))
}
